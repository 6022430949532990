// `--start-at T`: sleep until a Unix time, so shards on several machines share one plan zero.
import Glibc

public enum StartTime {
    /// Sleeps until the wall clock reads `unixS` (CLOCK_REALTIME, absolute, so a long sleep does not
    /// drift) and returns how late the clock read afterwards, in seconds (0 or a little above when on
    /// time; the lateness when `unixS` had already passed). A signal ends setup through the caller's
    /// `SetupSignalWatch`, which exits the process; other interruptions sleep on.
    public static func wait(untilUnixS unixS: Double) -> Double {
        var target = timespec()
        target.tv_sec = Int(unixS.rounded(.down))
        target.tv_nsec = Int(((unixS - unixS.rounded(.down)) * 1e9).rounded(.down))
        while wallClockSeconds() < unixS {
            if clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, nil) != EINTR { break }
        }
        return max(0, wallClockSeconds() - unixS)
    }

    /// Later than this after --start-at, a shard's zero differs enough from its peers' to say so.
    public static let lateWarningS = 0.05
}
