// Non-blocking TLS on one connection: handshake, read and write steps in the loop's IOResult terms.
import CLinux
import Glibc

/// Where a non-blocking handshake stands after one step.
public enum TLSHandshakeStep: Equatable {
    case done
    /// Call again when the socket is readable (or writable, `wantWrite`).
    case wantRead
    case wantWrite
    /// The reason in one line (OpenSSL's, or the certificate check's).
    case failed(String)
}

extension TLSLibrary {
    /// `IOResult.failed` codes that are not errno values.
    /// A TLS protocol error (bad record, alert): the reason waits in OpenSSL's error queue for
    /// `takeErrorText`.
    public static let protocolFailure: Int32 = -1
    /// The peer closed TCP without TLS's close_notify: an end of file that TLS cannot vouch for
    /// (a close-delimited body may be cut short), so the caller decides and counts it.
    public static let closedWithoutNotify: Int32 = -2

    public func handshakeStep(_ connection: UnsafeMutableRawPointer) -> TLSHandshakeStep {
        let result = doHandshake(connection)
        if result == 1 { return .done }
        let error = getError(connection, result)
        switch error {
        case TLSConstant.errorWantRead: return .wantRead
        case TLSConstant.errorWantWrite: return .wantWrite
        case TLSConstant.errorSyscall:
            let code = currentErrno()
            let queued = takeErrorText()
            if code != 0 && code != EAGAIN { return .failed("TLS handshake: \(errnoDescription(code))") }
            return .failed(queued.map { "TLS handshake: " + Self.shortReason($0) } ?? "the server closed the connection during the TLS handshake")
        default:
            return .failed(handshakeFailureText(connection, fallback: "TLS handshake failed (SSL_get_error \(error))"))
        }
    }

    /// `SSL_read` into `buffer`: bytes, `wouldBlock` (also when TLS needs to write first: the socket
    /// is registered for both), `endOfFile` on close_notify, `failed` with errno or the codes above.
    @inline(__always)
    public func readSome(_ connection: UnsafeMutableRawPointer, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
        let n = read(connection, buffer, Int32(truncatingIfNeeded: min(count, Int(Int32.max))))
        if n > 0 { return .bytes(Int(n)) }
        return failedIO(connection, n)
    }

    /// `SSL_write` of `count` bytes (partial writes allowed; a retry after `wouldBlock` must offer
    /// the same bytes, from any address).
    @inline(__always)
    public func writeSome(_ connection: UnsafeMutableRawPointer, _ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
        let n = write(connection, buffer, Int32(truncatingIfNeeded: min(count, Int(Int32.max))))
        if n > 0 { return .bytes(Int(n)) }
        return failedIO(connection, n)
    }

    @inline(never)
    private func failedIO(_ connection: UnsafeMutableRawPointer, _ result: Int32) -> IOResult {
        let error = getError(connection, result)
        switch error {
        case TLSConstant.errorWantRead, TLSConstant.errorWantWrite:
            return .wouldBlock
        case TLSConstant.errorZeroReturn:
            return .endOfFile
        case TLSConstant.errorSyscall:
            // OpenSSL 1.1.1 reports a close without close_notify as a syscall error with errno 0.
            let code = currentErrno()
            errorClear()
            if result == 0 || code == 0 { return .failed(Self.closedWithoutNotify) }
            return .failed(code == EAGAIN ? ECONNRESET : code)
        default:
            // OpenSSL 3 reports that close as SSL_R_UNEXPECTED_EOF_WHILE_READING.
            if UInt(errorPeek()) & TLSConstant.reasonMask == TLSConstant.reasonUnexpectedEOF {
                errorClear()
                return .failed(Self.closedWithoutNotify)
            }
            return .failed(Self.protocolFailure)
        }
    }

    /// Sends close_notify if it can without waiting (a courtesy; nothing waits for the answer).
    public func closeQuietly(_ connection: UnsafeMutableRawPointer) {
        _ = shutdown(connection)
        errorClear()
    }

    /// Marks a connection that ended well (its last answer whole) as shut down, without a write:
    /// OpenSSL otherwise takes `SSL_free` of a connection never shut down for a failure and makes
    /// its session, which later connections resume, unresumable.
    public func markEndedCleanly(_ connection: UnsafeMutableRawPointer) {
        setShutdown(connection, TLSConstant.shutdownBoth)
    }
}
