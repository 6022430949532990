// epoll, one timerfd with absolute deadlines, and a signalfd: everything one loop thread waits on.
import CLinux
import Glibc

/// A ready descriptor as the loop sees it: the 64-bit token it was registered with, and its events.
public struct PollEvent {
    public let token: UInt64
    public let events: UInt32

    public var isReadable: Bool { events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 }
    public var isWritable: Bool { events & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 }
    public var isError: Bool { events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 }
    public var isPeerClosed: Bool { events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0 }
    /// Bytes (or the end of file) are waiting, as opposed to a bare hang-up or error.
    public var hasInput: Bool { events & EPOLLIN.rawValue != 0 }
}

/// `epoll_pwait2`'s signature, so that tests can stand in a failing one.
public typealias PreciseWaitCall = @convention(c) (Int32, UnsafeMutablePointer<epoll_event>?, Int32,
                                                   UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32
/// `timerfd_settime`'s signature, likewise.
public typealias TimerSetCall = @convention(c) (Int32, Int32, UnsafePointer<itimerspec>?, UnsafeMutablePointer<itimerspec>?) -> Int32

/// Owned by one thread. Tokens `timerToken` and `signalToken` are reserved for the poller's own fds.
public final class Poller {
    public static let timerToken: UInt64 = .max
    public static let signalToken: UInt64 = .max - 1

    /// Edge-triggered read, write and peer-hang-up: registered once per socket, never modified.
    public static let socketEvents: UInt32 = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
    public static let readEvents: UInt32 = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue

    private let epollFD: Int32
    private let timerFD: Int32
    private var signalFD: Int32 = -1
    private let events: UnsafeMutablePointer<epoll_event>
    private let capacity: Int
    /// The deadline the timerfd is armed for, or 0. Re-armed only when the earliest deadline moves
    /// earlier or the armed one has fired: each `timerfd_settime` costs ~850 ns.
    private var armedDeadlineNs: UInt64 = 0

    private let preciseWaitCall: PreciseWaitCall
    private let timerSetCall: TimerSetCall
    /// Set when `epoll_pwait2` failed with something other than EINTR and the timerfd took over.
    public private(set) var preciseWaitError: Int32 = 0
    /// Set when `timerfd_settime` failed; then waits are bounded in whole milliseconds instead.
    public private(set) var timerError: Int32 = 0

    public init(capacity: Int = 1024, preciseWait: PreciseWaitCall? = nil, timerSet: TimerSetCall? = nil) throws {
        preciseWaitCall = preciseWait ?? { epoll_pwait2($0, $1, $2, $3, $4) }
        timerSetCall = timerSet ?? { timerfd_settime($0, $1, $2, $3) }
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError("epoll_create1", errno: currentErrno()) }
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard timerFD >= 0 else { throw SystemError("timerfd_create", errno: currentErrno()) }
        self.capacity = capacity
        events = .allocate(capacity: capacity)
        events.initialize(repeating: epoll_event(), count: capacity)
        try add(timerFD, events: EPOLLIN.rawValue, token: Poller.timerToken)
    }

    deinit {
        events.deallocate()
        closeDescriptor(timerFD)
        if signalFD >= 0 { closeDescriptor(signalFD) }
        closeDescriptor(epollFD)
    }

    /// Routes SIGINT and SIGTERM to this poller (blocked for the calling thread; threads created
    /// afterwards inherit the mask, so the signal reaches only the signalfd).
    public func watchTerminationSignals() throws {
        var mask = sigset_t()
        _ = clinux_block_signals_for_signalfd(&mask)
        signalFD = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard signalFD >= 0 else { throw SystemError("signalfd", errno: currentErrno()) }
        try add(signalFD, events: EPOLLIN.rawValue, token: Poller.signalToken)
    }

    /// Reads the pending signal, if any: its number.
    public func takeSignal() -> Int32? {
        var info = signalfd_siginfo()
        let n = withUnsafeMutableBytes(of: &info) { readSome(signalFD, $0.baseAddress!, $0.count) }
        if case .bytes = n { return Int32(info.ssi_signo) }
        return nil
    }

    public func add(_ fd: Int32, events: UInt32, token: UInt64) throws {
        var event = clinux_epoll_event_make(events, token)
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw SystemError("epoll_ctl add", errno: currentErrno())
        }
    }

    /// Adds a socket on the hot path: failure is an errno value (ENOMEM, ENOSPC), not a throw.
    @inline(__always)
    public func register(_ fd: Int32, events: UInt32, token: UInt64) -> Int32 {
        var event = clinux_epoll_event_make(events, token)
        return epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : currentErrno()
    }

    /// Closing a descriptor removes it from epoll; this is for descriptors that stay open.
    public func remove(_ fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    /// Makes sure the loop wakes by `deadlineNs` (CLOCK_MONOTONIC). 0 means no deadline.
    /// False if the timerfd could not be armed: the caller must bound its wait another way.
    @inline(__always)
    @discardableResult
    public func wake(byNs deadlineNs: UInt64, nowNs: UInt64) -> Bool {
        guard deadlineNs != 0 else { return true }
        if armedDeadlineNs != 0 && armedDeadlineNs > nowNs && armedDeadlineNs <= deadlineNs { return true }
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(deadlineNs / 1_000_000_000)
        spec.it_value.tv_nsec = Int(deadlineNs % 1_000_000_000)
        guard timerSetCall(timerFD, Int32(TFD_TIMER_ABSTIME), &spec, nil) == 0 else {
            timerError = currentErrno()
            armedDeadlineNs = 0
            return false
        }
        armedDeadlineNs = deadlineNs
        return true
    }

    /// Clears a fired timer so edge-less level-triggered epoll stops reporting it.
    @inline(__always)
    public func acknowledgeTimer() {
        var expirations: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &expirations) { readSome(timerFD, $0.baseAddress!, 8) }
        armedDeadlineNs = 0
    }

    /// epoll_pwait2 (Linux 5.11+) takes a nanosecond timeout, which saves the two timerfd calls
    /// (arm, then read) of every sleep; the timerfd remains the fallback on older kernels.
    private var hasPreciseWait = true

    /// Waits for events until `deadlineNs` (absolute, CLOCK_MONOTONIC; `.max` waits for I/O only).
    /// Returns the number of events, read with `event(at:)`.
    @inline(__always)
    public func wait(untilNs deadlineNs: UInt64, nowNs: UInt64) -> Int {
        // Every wait, a poll (deadline passed) and a block (no deadline) included, is one epoll_pwait2
        // while it works: one kind of epoll call, one per loop turn.
        if hasPreciseWait {
            let delayNs = deadlineNs > nowNs ? deadlineNs - nowNs : 0
            var timeout = timespec(tv_sec: Int(delayNs / 1_000_000_000), tv_nsec: Int(delayNs % 1_000_000_000))
            let n = deadlineNs == .max
                ? preciseWaitCall(epollFD, events, Int32(capacity), nil, nil)
                : preciseWaitCall(epollFD, events, Int32(capacity), &timeout, nil)
            if n >= 0 { return Int(n) }
            let code = currentErrno()
            if code == EINTR { return 0 }
            // ENOSYS on kernels before 5.11; EPERM or EINVAL under some seccomp filters and sandboxes.
            hasPreciseWait = false
            preciseWaitError = code
        }
        if deadlineNs == .max { return wait(timeoutMs: -1) }
        if deadlineNs <= nowNs { return wait(timeoutMs: 0) }
        if wake(byNs: deadlineNs, nowNs: nowNs) { return wait(timeoutMs: -1) }
        // No timer either: epoll_wait's own timeout, rounded up to whole milliseconds, keeps the loop alive.
        let delayMs = (deadlineNs - nowNs + 999_999) / 1_000_000
        return wait(timeoutMs: Int32(min(delayMs, UInt64(Int32.max))))
    }

    /// Waits for events: `timeoutMs` -1 blocks (the timerfd bounds the wait), 0 polls.
    /// Returns the number of events, read with `event(at:)`.
    @inline(__always)
    public func wait(timeoutMs: Int32) -> Int {
        while true {
            let n = epoll_wait(epollFD, events, Int32(capacity), timeoutMs)
            if n >= 0 { return Int(n) }
            let code = currentErrno()
            if code == EINTR { continue }
            preconditionFailure("epoll_wait: \(errnoDescription(code))")
        }
    }

    @inline(__always)
    public func event(at index: Int) -> PollEvent {
        let pointer = events + index
        return PollEvent(token: clinux_epoll_event_data(pointer), events: clinux_epoll_event_events(pointer))
    }
}

/// Blocks SIGINT and SIGTERM in the calling thread (and threads it creates later), so they arrive
/// only through a poller's signalfd, never as an asynchronous handler in a random thread.
public func blockTerminationSignals() {
    var mask = sigset_t()
    _ = clinux_block_signals_for_signalfd(&mask)
}
