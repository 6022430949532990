// Reads that also return when the kernel received the bytes, so a request's arrival time is true.
import CLinux
import Glibc
import MetronomeCore

/// A request is admitted at the moment its last byte reached the host, not when the loop got to
/// it: if the loop is late (busy, or descheduled on a shared machine), the whole stream would
/// otherwise shift by that lateness. The kernel stamps each received packet (software RX
/// timestamping, SO_TIMESTAMPING) and `recvmsg` returns the newest stamp of what it read.
enum ReceiveStamps {
    /// Linux ABI values Glibc's Swift overlay does not export (asm-generic/socket.h,
    /// linux/net_tstamp.h): SO_TIMESTAMPING (also the cmsg type) and SOF_TIMESTAMPING_RX_SOFTWARE
    /// | SOF_TIMESTAMPING_SOFTWARE.
    static let option: Int32 = 37
    static let flags: Int32 = 1 << 3 | 1 << 4
    static let controlBytes = 128

    /// Best effort: without stamps, arrival falls back to the loop's clock.
    static func enable(_ fd: Int32) {
        var value = flags
        _ = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// `recvmsg(2)` through the same funnel rules as `readSome`: EINTR retried, EAGAIN a value.
/// `stampNs` receives the kernel's receive time on CLOCK_MONOTONIC, or is left alone.
@inline(__always)
func receiveSome(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, control: UnsafeMutableRawPointer,
                 stampNs: inout UInt64) -> IOResult {
    var vector = iovec(iov_base: buffer, iov_len: count)
    var message = msghdr()
    let n: Int = withUnsafeMutablePointer(to: &vector) { vectorPointer in
        message.msg_iov = vectorPointer
        message.msg_iovlen = 1
        while true {
            message.msg_control = control
            message.msg_controllen = ReceiveStamps.controlBytes
            let n = recvmsg(fd, &message, 0)
            if n >= 0 { return n }
            let code = clinux_errno()
            if code == EINTR { continue }
            return -Int(code)
        }
    }
    if n == 0 { return .endOfFile }
    if n < 0 {
        let code = Int32(-n)
        return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock : .failed(code)
    }
    // struct cmsghdr { size_t len; int level; int type; } and data at 8-byte alignment;
    // SCM_TIMESTAMPING carries three timespecs, the first the software stamp (CLOCK_REALTIME).
    var offset = 0
    while offset + 32 <= Int(message.msg_controllen) {
        let length = control.load(fromByteOffset: offset, as: Int.self)
        if control.load(fromByteOffset: offset + 8, as: Int32.self) == SOL_SOCKET,
           control.load(fromByteOffset: offset + 12, as: Int32.self) == ReceiveStamps.option, length >= 32 {
            let seconds = control.load(fromByteOffset: offset + 16, as: Int.self)
            let nanoseconds = control.load(fromByteOffset: offset + 24, as: Int.self)
            if seconds > 0 {
                // Convert with both clocks read now, so a step of the wall clock cannot skew it.
                let realtimeNowNs = UInt64(wallClockNanoseconds())
                let monotonicNowNs = monotonicNs()
                let stampRealNs = UInt64(seconds) &* 1_000_000_000 &+ UInt64(nanoseconds)
                let ageNs = realtimeNowNs > stampRealNs ? realtimeNowNs - stampRealNs : 0
                if ageNs < 1_000_000_000 { stampNs = monotonicNowNs - ageNs }
            }
            break
        }
        if length <= 0 { break }
        offset += (length + 7) & ~7
    }
    return .bytes(n)
}

@inline(__always)
private func wallClockNanoseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return ts.tv_sec &* 1_000_000_000 &+ ts.tv_nsec
}
