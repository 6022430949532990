// Ctrl-C during setup (name lookup, model discovery): exit 130 at once, without losing a later signal.
import CLinux
import Glibc

/// SIGINT and SIGTERM are blocked in every thread from the start, so that during the run they reach
/// only the engine's signalfd. Blocked, they would also be ignored through setup, where a lookup or a
/// slow server can take seconds. This watcher thread waits on its own signalfd while setup runs: a
/// signal ends the process with 130 right away. `stop()` ends the watch without reading the signalfd,
/// so a signal that arrives later stays pending, and the engine's signalfd takes it at its first wait;
/// one that races with `stop()` still ends the process here. No signal is lost either way.
public final class SetupSignalWatch: @unchecked Sendable {
    private let signalFD: Int32
    private let stopFD: Int32
    private var thread = pthread_t()

    /// Blocks SIGINT/SIGTERM in the calling thread (call it before any other thread exists) and
    /// starts watching.
    public init() throws {
        var mask = sigset_t()
        _ = clinux_block_signals_for_signalfd(&mask)
        signalFD = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard signalFD >= 0 else { throw SystemError("signalfd", errno: currentErrno()) }
        stopFD = eventfd(0, Int32(EFD_CLOEXEC))
        guard stopFD >= 0 else {
            closeDescriptor(signalFD)
            throw SystemError("eventfd", errno: currentErrno())
        }
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { context in
            let watch = Unmanaged<SetupSignalWatch>.fromOpaque(context!).takeRetainedValue()
            watch.watch()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<SetupSignalWatch>.fromOpaque(context).release()
            closeDescriptor(signalFD)
            closeDescriptor(stopFD)
            throw SystemError("pthread_create", errno: status)
        }
    }

    /// Ends the watch and waits for the thread; from here on a signal waits for the engine.
    public func stop() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { writeSome(stopFD, $0.baseAddress!, $0.count) }
        pthread_join(thread, nil)
        closeDescriptor(signalFD)
        closeDescriptor(stopFD)
    }

    private func watch() {
        var descriptors = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 && currentErrno() == EINTR { continue }
            // A signal wins over a stop that arrived together: the run has not started yet.
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                let message = "\nmetronome: interrupted during setup\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                _exit(130)
            }
            if descriptors[1].revents != 0 || ready < 0 { return }
        }
    }
}
