// The poller keeps its deadlines when the precise wait or the timer fails: it falls back, never traps.
import CLinux
import Glibc
import XCTest
@testable import MetronomeCore

final class PollerTests: XCTestCase {
    /// Waits on an empty poller until a deadline 20 ms away and returns how late it woke (ns; negative is early).
    func lateness(_ poller: Poller) -> Int64 {
        let start = monotonicNs()
        let deadline = start + 20_000_000
        var now = start
        while now < deadline {
            _ = poller.wait(untilNs: deadline, nowNs: now)
            now = monotonicNs()
        }
        return Int64(now) - Int64(deadline)
    }

    func testDeadlineKeptWhenThePreciseWaitIsRefused() throws {
        // As a seccomp filter that does not know epoll_pwait2 answers: EPERM.
        let poller = try Poller(preciseWait: { _, _, _, _, _ in
            clinux_set_errno(EPERM)
            return -1
        })
        XCTAssertLessThan(lateness(poller), 50_000_000, "woke by the timerfd instead")
        XCTAssertEqual(poller.preciseWaitError, EPERM)
        XCTAssertLessThan(lateness(poller), 50_000_000, "and stays on it")
    }

    func testDeadlineKeptWhenTheTimerCannotBeArmedEither() throws {
        let poller = try Poller(preciseWait: { _, _, _, _, _ in
            clinux_set_errno(EINVAL)
            return -1
        }, timerSet: { _, _, _, _ in
            clinux_set_errno(EINVAL)
            return -1
        })
        XCTAssertLessThan(lateness(poller), 50_000_000, "woke by epoll_wait's millisecond timeout")
        XCTAssertEqual(poller.timerError, EINVAL)
    }

    func testPreciseWaitInterruptedReturnsNoEvents() throws {
        let poller = try Poller(preciseWait: { _, _, _, _, _ in
            clinux_set_errno(EINTR)
            return -1
        })
        let now = monotonicNs()
        XCTAssertEqual(poller.wait(untilNs: now + 1_000_000, nowNs: now), 0)
        XCTAssertEqual(poller.preciseWaitError, 0, "EINTR is no reason to give up the precise wait")
    }
}
