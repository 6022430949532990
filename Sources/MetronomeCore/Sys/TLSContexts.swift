// The client's and the simulated server's TLS settings (OpenSSL contexts), made once before a run.
import CLinux
import Glibc

/// How the generator speaks TLS to one target: TLS 1.2 or 1.3, ALPN `http/1.1`, SNI and the
/// certificate checked against the system's store (or `--cacert`) for the URL's host, unless
/// `--insecure`. Plain data and pointers made once; `release` frees them after the run.
public struct TLSClient: @unchecked Sendable {
    public let library: TLSLibrary
    let context: UnsafeMutableRawPointer
    /// SNI and the name checked, as C strings made once (nil for an IP address: no SNI, and the
    /// certificate's IP entries are checked instead).
    private let serverName: UnsafeMutablePointer<CChar>?
    private let ipAddress: UnsafeMutablePointer<CChar>?
    public let verifies: Bool
    /// `--no-tls-resume` turns it off: every connection then pays a full handshake.
    public let resumes: Bool

    public init(library: TLSLibrary, host: String, caFile: String?, insecure: Bool, resume: Bool) throws(TLSSetupError) {
        guard let context = library.contextNew(library.clientMethod()) else {
            throw TLSSetupError("OpenSSL could not make a TLS context: \(library.takeErrorText() ?? "no reason given")")
        }
        self.library = library
        self.context = context
        verifies = !insecure
        resumes = resume
        _ = library.contextControl(context, TLSConstant.controlSetMinProtocol, TLSConstant.tls12Version, nil)
        _ = library.contextControl(context, TLSConstant.controlMode, TLSConstant.modePartialWriteMovingBuffer, nil)
        let alpn: [UInt8] = [8] + Array("http/1.1".utf8)
        _ = library.contextSetALPN(context, alpn, UInt32(alpn.count))
        if TLSClient.isIPAddress(host) {
            serverName = nil
            ipAddress = strdup(host)
        } else {
            serverName = strdup(host)
            ipAddress = nil
        }
        if insecure {
            library.contextSetVerify(context, TLSConstant.verifyNone, nil)
        } else {
            library.contextSetVerify(context, TLSConstant.verifyPeer, nil)
            if let caFile {
                // As curl's --cacert: the file replaces the system's store.
                guard access(caFile, R_OK) == 0 else {
                    let reason = errnoDescription(currentErrno())
                    release()
                    throw TLSSetupError("'\(caFile)': \(reason)", flag: "--cacert")
                }
                guard library.contextLoadVerifyLocations(context, caFile, nil) == 1 else {
                    let reason = library.takeErrorText().map { TLSLibrary.shortReason($0) } ?? "no certificate in it"
                    release()
                    throw TLSSetupError("'\(caFile)' is not a PEM file of CA certificates (\(reason))", flag: "--cacert")
                }
            } else {
                _ = library.contextSetDefaultVerifyPaths(context)
            }
        }
        library.errorClear()
    }

    /// A TLS connection over the connected socket `fd`, set to connect (SNI, the name to check, and
    /// the session to resume if any); nil if OpenSSL is out of memory. Once per connection.
    public func connection(fd: Int32, resuming session: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        guard let connection = library.new(context) else {
            library.errorClear()
            return nil
        }
        _ = library.setFD(connection, fd)
        library.setConnectState(connection)
        if let serverName {
            _ = library.control(connection, TLSConstant.controlSetHostName, TLSConstant.nameTypeHostName, serverName)
            if verifies { _ = library.set1Host(connection, serverName) }
        } else if let ipAddress, verifies, let parameters = library.get0Param(connection) {
            _ = library.paramSet1IP(parameters, ipAddress)
        }
        if resumes, let session { _ = library.setSession(connection, session) }
        return connection
    }

    /// The connection's session if a later connection can resume it (a TLS 1.3 ticket arrives after
    /// the handshake, so this is asked once the first answer is read); the caller frees it.
    public func resumableSession(of connection: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        guard resumes, let session = library.get1Session(connection) else { return nil }
        if library.sessionIsResumable(session) == 1 { return session }
        library.sessionFree(session)
        return nil
    }

    public func release() {
        library.contextFree(context)
        serverName.map { Glibc.free($0) }
        ipAddress.map { Glibc.free($0) }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }
}

/// `llmsim --tls-cert FILE --tls-key FILE`: the simulated server's side of TLS.
public struct TLSServer: @unchecked Sendable {
    public let library: TLSLibrary
    let context: UnsafeMutableRawPointer

    public init(library: TLSLibrary, certificateFile: String, keyFile: String) throws(TLSSetupError) {
        guard let context = library.contextNew(library.serverMethod()) else {
            throw TLSSetupError("OpenSSL could not make a TLS context: \(library.takeErrorText() ?? "no reason given")")
        }
        self.library = library
        self.context = context
        _ = library.contextControl(context, TLSConstant.controlSetMinProtocol, TLSConstant.tls12Version, nil)
        _ = library.contextControl(context, TLSConstant.controlMode, TLSConstant.modePartialWriteMovingBuffer, nil)
        for (option, file) in [("--tls-cert", certificateFile), ("--tls-key", keyFile)] where access(file, R_OK) != 0 {
            let reason = errnoDescription(currentErrno())
            library.contextFree(context)
            throw TLSSetupError("'\(file)': \(reason)", flag: option)
        }
        guard library.contextUseCertificateChainFile(context, certificateFile) == 1 else {
            let reason = library.takeErrorText().map { TLSLibrary.shortReason($0) } ?? "unreadable"
            library.contextFree(context)
            throw TLSSetupError("'\(certificateFile)' is not a PEM certificate (\(reason))", flag: "--tls-cert")
        }
        guard library.contextUsePrivateKeyFile(context, keyFile, TLSConstant.filetypePEM) == 1,
              library.contextCheckPrivateKey(context) == 1 else {
            let reason = library.takeErrorText().map { TLSLibrary.shortReason($0) } ?? "unreadable"
            library.contextFree(context)
            throw TLSSetupError("'\(keyFile)' is not the PEM private key of --tls-cert (\(reason))", flag: "--tls-key")
        }
        library.errorClear()
    }

    /// A TLS connection over the accepted socket `fd`, set to accept; nil if OpenSSL is out of memory.
    public func connection(fd: Int32) -> UnsafeMutableRawPointer? {
        guard let connection = library.new(context) else {
            library.errorClear()
            return nil
        }
        _ = library.setFD(connection, fd)
        library.setAcceptState(connection)
        return connection
    }

    /// Ends a connection from `connection(fd:)`, before its socket is closed: close_notify first
    /// when `notify` (a close the server means, so the client sees a clean TLS end), none for a
    /// fault or a broken connection; then SSL_free, and the thread's error queue emptied (a failed
    /// read or write leaves its reason there, which would spoil the next SSL_get_error).
    public func finish(_ connection: UnsafeMutableRawPointer, notify: Bool) {
        if notify { _ = library.shutdown(connection) }
        library.free(connection)
        library.errorClear()
    }

    public func release() { library.contextFree(context) }
}
