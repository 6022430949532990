// CPU time of the loop thread from getrusage: the generator's own cost, reported with every run.
import Glibc

/// CPU time of the calling thread, in seconds.
public func threadCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(1 /* RUSAGE_THREAD: GNU-only in the headers */, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
