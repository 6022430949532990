// OpenSSL's libssl, loaded at run time with dlopen: the calls TLS needs, as C function pointers.
import CLinux
import Glibc

/// A TLS setup failure (no library, a bad certificate file): a message for the user, said before the run.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    /// The option whose value is at fault (`--cacert`, `--tls-key`): a usage error; nil for the machine's.
    public let flag: String?
    public let message: String
    public init(_ message: String, flag: String? = nil) {
        self.flag = flag
        self.message = message
    }
    public var description: String { flag.map { "\($0) \(message)" } ?? message }
}

/// libssl's functions, found once with dlopen/dlsym, so the build needs neither OpenSSL's headers
/// nor `-lssl`, and a machine without the library still runs every http:// load. A plain struct of
/// function pointers: the loop calls through it with no lookup, lock or reference count.
/// `METRONOME_LIBSSL` names the library to load instead of the usual names (and lets the tests see
/// the message a machine without it gets).
public struct TLSLibrary: @unchecked Sendable {  // immutable; C function pointers are not marked Sendable
    /// The file dlopen took, and OpenSSL's own version line ("OpenSSL 3.0.17 1 Jul 2025").
    public let file: String
    public let version: String

    let clientMethod: clinux_tls_method_fn
    let serverMethod: clinux_tls_method_fn
    let contextNew: clinux_tls_ctx_new_fn
    let contextFree: clinux_tls_free_fn
    let contextControl: clinux_tls_ctrl_fn
    let contextSetOptions: clinux_tls_ctx_set_options_fn
    let contextSetDefaultVerifyPaths: clinux_tls_ctx_call_fn
    let contextLoadVerifyLocations: clinux_tls_ctx_load_verify_fn
    let contextSetVerify: clinux_tls_ctx_set_verify_fn
    let contextSetALPN: clinux_tls_ctx_set_alpn_fn
    let contextUseCertificateChainFile: clinux_tls_ctx_use_chain_fn
    let contextUsePrivateKeyFile: clinux_tls_ctx_use_file_fn
    let contextCheckPrivateKey: clinux_tls_ctx_call_fn
    let new: clinux_tls_new_fn
    let free: clinux_tls_free_fn
    let control: clinux_tls_ctrl_fn
    let setFD: clinux_tls_set_fd_fn
    let setConnectState: clinux_tls_set_state_fn
    let setAcceptState: clinux_tls_set_state_fn
    let doHandshake: clinux_tls_call_fn
    let shutdown: clinux_tls_call_fn
    let setShutdown: clinux_tls_set_shutdown_fn
    let read: clinux_tls_read_fn
    let write: clinux_tls_write_fn
    let getError: clinux_tls_get_error_fn
    let pending: clinux_tls_pending_fn
    let set1Host: clinux_tls_set1_host_fn
    let get0Param: clinux_tls_get0_param_fn
    let paramSet1IP: clinux_tls_param_set1_ip_fn
    let setSession: clinux_tls_set_session_fn
    let get1Session: clinux_tls_get1_session_fn
    let sessionReused: clinux_tls_call_fn
    let sessionFree: clinux_tls_free_fn
    let sessionIsResumable: clinux_tls_session_call_fn
    let getVerifyResult: clinux_tls_get_verify_result_fn
    let verifyErrorString: clinux_tls_verify_error_string_fn
    let getVersion: clinux_tls_get_version_fn
    let errorGet: clinux_tls_err_get_fn
    let errorPeek: clinux_tls_err_get_fn
    let errorString: clinux_tls_err_string_fn
    let errorClear: clinux_tls_err_clear_fn

    /// Tried in order: OpenSSL 3 (Debian 12+, Ubuntu 22.04+, RHEL 9), the development link, 1.1.1.
    static let libraryNames = ["libssl.so.3", "libssl.so", "libssl.so.1.1"]

    /// The process's libssl, loaded at the first https:// setup (never on the loop's path).
    public static let shared: Result<TLSLibrary, TLSSetupError> = {
        do throws(TLSSetupError) {
            return .success(try TLSLibrary(names: getenv("METRONOME_LIBSSL").map { [String(cString: $0)] } ?? libraryNames))
        } catch {
            return .failure(error)
        }
    }()

    public static func load() throws(TLSSetupError) -> TLSLibrary {
        try shared.get()
    }

    init(names: [String]) throws(TLSSetupError) {
        var opened: (String, UnsafeMutableRawPointer)?
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                opened = (name, handle)
                break
            }
        }
        guard let (file, handle) = opened else {
            throw TLSSetupError("https:// needs OpenSSL's libssl (\(names.joined(separator: ", ")) not found); install it: "
                + "apt-get install libssl3 (Debian, Ubuntu), dnf install openssl-libs (RHEL, Fedora), apk add libssl3 (Alpine)")
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws(TLSSetupError) -> T {
            // dlsym on libssl's handle also searches what it needs, libcrypto (ERR_*, X509_*).
            guard let address = dlsym(handle, name) else {
                throw TLSSetupError("\(file) has no \(name): Metronome needs OpenSSL 1.1.1 or newer for https://")
            }
            return unsafeBitCast(address, to: type)
        }
        self.file = file
        clientMethod = try symbol("TLS_client_method", clinux_tls_method_fn.self)
        serverMethod = try symbol("TLS_server_method", clinux_tls_method_fn.self)
        contextNew = try symbol("SSL_CTX_new", clinux_tls_ctx_new_fn.self)
        contextFree = try symbol("SSL_CTX_free", clinux_tls_free_fn.self)
        contextControl = try symbol("SSL_CTX_ctrl", clinux_tls_ctrl_fn.self)
        contextSetOptions = try symbol("SSL_CTX_set_options", clinux_tls_ctx_set_options_fn.self)
        contextSetDefaultVerifyPaths = try symbol("SSL_CTX_set_default_verify_paths", clinux_tls_ctx_call_fn.self)
        contextLoadVerifyLocations = try symbol("SSL_CTX_load_verify_locations", clinux_tls_ctx_load_verify_fn.self)
        contextSetVerify = try symbol("SSL_CTX_set_verify", clinux_tls_ctx_set_verify_fn.self)
        contextSetALPN = try symbol("SSL_CTX_set_alpn_protos", clinux_tls_ctx_set_alpn_fn.self)
        contextUseCertificateChainFile = try symbol("SSL_CTX_use_certificate_chain_file", clinux_tls_ctx_use_chain_fn.self)
        contextUsePrivateKeyFile = try symbol("SSL_CTX_use_PrivateKey_file", clinux_tls_ctx_use_file_fn.self)
        contextCheckPrivateKey = try symbol("SSL_CTX_check_private_key", clinux_tls_ctx_call_fn.self)
        new = try symbol("SSL_new", clinux_tls_new_fn.self)
        free = try symbol("SSL_free", clinux_tls_free_fn.self)
        control = try symbol("SSL_ctrl", clinux_tls_ctrl_fn.self)
        setFD = try symbol("SSL_set_fd", clinux_tls_set_fd_fn.self)
        setConnectState = try symbol("SSL_set_connect_state", clinux_tls_set_state_fn.self)
        setAcceptState = try symbol("SSL_set_accept_state", clinux_tls_set_state_fn.self)
        doHandshake = try symbol("SSL_do_handshake", clinux_tls_call_fn.self)
        shutdown = try symbol("SSL_shutdown", clinux_tls_call_fn.self)
        setShutdown = try symbol("SSL_set_shutdown", clinux_tls_set_shutdown_fn.self)
        read = try symbol("SSL_read", clinux_tls_read_fn.self)
        write = try symbol("SSL_write", clinux_tls_write_fn.self)
        getError = try symbol("SSL_get_error", clinux_tls_get_error_fn.self)
        pending = try symbol("SSL_pending", clinux_tls_pending_fn.self)
        set1Host = try symbol("SSL_set1_host", clinux_tls_set1_host_fn.self)
        get0Param = try symbol("SSL_get0_param", clinux_tls_get0_param_fn.self)
        paramSet1IP = try symbol("X509_VERIFY_PARAM_set1_ip_asc", clinux_tls_param_set1_ip_fn.self)
        setSession = try symbol("SSL_set_session", clinux_tls_set_session_fn.self)
        get1Session = try symbol("SSL_get1_session", clinux_tls_get1_session_fn.self)
        sessionReused = try symbol("SSL_session_reused", clinux_tls_call_fn.self)
        sessionFree = try symbol("SSL_SESSION_free", clinux_tls_free_fn.self)
        sessionIsResumable = try symbol("SSL_SESSION_is_resumable", clinux_tls_session_call_fn.self)
        getVerifyResult = try symbol("SSL_get_verify_result", clinux_tls_get_verify_result_fn.self)
        verifyErrorString = try symbol("X509_verify_cert_error_string", clinux_tls_verify_error_string_fn.self)
        getVersion = try symbol("SSL_get_version", clinux_tls_get_version_fn.self)
        errorGet = try symbol("ERR_get_error", clinux_tls_err_get_fn.self)
        errorPeek = try symbol("ERR_peek_error", clinux_tls_err_get_fn.self)
        errorString = try symbol("ERR_error_string_n", clinux_tls_err_string_fn.self)
        errorClear = try symbol("ERR_clear_error", clinux_tls_err_clear_fn.self)
        let versionText = try symbol("OpenSSL_version", clinux_tls_version_text_fn.self)
        version = versionText(0).map { String(cString: $0) } ?? file
    }
}

/// OpenSSL's constants (stable across 1.1.1 and 3.x; from ssl.h, tls1.h and x509_vfy.h).
enum TLSConstant {
    static let errorNone: Int32 = 0
    static let errorSSL: Int32 = 1
    static let errorWantRead: Int32 = 2
    static let errorWantWrite: Int32 = 3
    static let errorSyscall: Int32 = 5
    static let errorZeroReturn: Int32 = 6
    static let verifyNone: Int32 = 0
    static let verifyPeer: Int32 = 1
    static let filetypePEM: Int32 = 1
    static let controlMode: Int32 = 33
    static let controlSetHostName: Int32 = 55
    static let controlSetMinProtocol: Int32 = 123
    static let nameTypeHostName = 0
    static let tls12Version = 0x0303
    /// SSL_write may return having written part of the buffer, and a retry may pass another
    /// address holding the same bytes: the loop rebuilds them from its own request bytes.
    static let modePartialWriteMovingBuffer = 0x1 | 0x2
    /// SSL_R_UNEXPECTED_EOF_WHILE_READING (OpenSSL 3): the peer closed TCP without close_notify.
    static let reasonUnexpectedEOF: UInt = 294
    static let reasonMask: UInt = 0x7F_FFFF
    /// SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN.
    static let shutdownBoth: Int32 = 1 | 2
}

extension TLSLibrary {
    /// Empties the thread's error queue and says what it held: the first error as OpenSSL words it
    /// ("error:0A000086:SSL routines::certificate verify failed"), or nil. Failure paths only.
    func takeErrorText() -> String? {
        var first: String?
        while true {
            let code = errorGet()
            if code == 0 { break }
            if first == nil {
                var buffer = [UInt8](repeating: 0, count: 256)
                buffer.withUnsafeMutableBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { errorString(code, $0.baseAddress, $0.count) }
                }
                first = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return first
    }

    /// Why a handshake failed, in one line: the certificate check's own reason when that failed
    /// ("certificate verify failed: hostname mismatch"), else OpenSSL's error, else `fallback`.
    func handshakeFailureText(_ connection: UnsafeMutableRawPointer, fallback: String) -> String {
        let queued = takeErrorText()
        let verify = getVerifyResult(connection)
        if verify != 0 {
            let reason = verifyErrorString(verify).map { String(cString: $0) } ?? "code \(verify)"
            return "certificate verify failed: \(reason)"
        }
        return queued.map { Self.shortReason($0) } ?? fallback
    }

    /// "error:0A000086:SSL routines::certificate verify failed" → "certificate verify failed": the
    /// reason after the last colon reads best in a failures table.
    static func shortReason(_ text: String) -> String {
        guard let colon = text.lastIndex(of: ":") else { return text }
        let reason = text[text.index(after: colon)...]
        return reason.isEmpty ? text : String(reason)
    }
}
