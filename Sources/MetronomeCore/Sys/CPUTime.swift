// CPU time and preemptions of the loop thread from getrusage, and the host's load: the generator's own cost and health.
import Glibc

/// What `getrusage(RUSAGE_THREAD)` says of the calling thread.
public struct ThreadUsage: Sendable, Equatable {
    public var cpuSeconds: Double
    /// `ru_nivcsw`: times the kernel took the CPU from the thread while it could still run, because
    /// another thread needed the core. Many of them mean the loop waited for a CPU, not for I/O.
    public var involuntarySwitches: Int

    public init(cpuSeconds: Double, involuntarySwitches: Int) {
        self.cpuSeconds = cpuSeconds
        self.involuntarySwitches = involuntarySwitches
    }

    public static func current() -> ThreadUsage {
        var usage = rusage()
        getrusage(1 /* RUSAGE_THREAD: GNU-only in the headers */, &usage)
        return ThreadUsage(cpuSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                               + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
                           involuntarySwitches: usage.ru_nivcsw)
    }

    /// The usage between `start` and this reading.
    public func since(_ start: ThreadUsage) -> ThreadUsage {
        ThreadUsage(cpuSeconds: cpuSeconds - start.cpuSeconds, involuntarySwitches: involuntarySwitches - start.involuntarySwitches)
    }
}

/// CPU time of the calling thread, in seconds.
public func threadCPUSeconds() -> Double {
    ThreadUsage.current().cpuSeconds
}

/// How busy the host was: runnable threads (the 1-minute load average) against the cores to run them.
public struct HostLoad: Sendable, Equatable {
    /// From `/proc/loadavg`; nil where it cannot be read.
    public var loadAverage1m: Double?
    public var cores: Int

    public init(loadAverage1m: Double? = nil, cores: Int = 0) {
        self.loadAverage1m = loadAverage1m
        self.cores = cores
    }

    /// Reads the host now (a file read: before or after the loop, never in it).
    public static func current() -> HostLoad {
        var load: Double?
        if let bytes = try? readFile("/proc/loadavg"), let first = String(decoding: bytes, as: UTF8.self).split(separator: " ").first {
            load = Double(first)
        }
        return HostLoad(loadAverage1m: load, cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
