// Raises the open-file limit, since every connection is a descriptor.
import Glibc

public struct OpenFileLimit: Sendable {
    public let soft: UInt64
    public let hard: UInt64
}

/// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns what is in force afterwards.
public func raiseOpenFileLimit() -> OpenFileLimit {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
        return OpenFileLimit(soft: 1024, hard: 1024)
    }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return OpenFileLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
}
