// `metronome ui`: a page that asks for the run (no plan yet), then becomes that run's live view.
import Glibc

/// Serves the start form at `--web` (the same bounds as `run --web`: few clients, small requests,
/// timeouts). A POST /start is checked exactly as `metronome run` would check it (its parser,
/// then its whole setup, model discovery included), and a problem is answered on the page with
/// the CLI's message. A good one closes the listener and replaces this process by
/// `metronome run … --web <this address> --web-keep`, so the page's next load is the run's live view.
public final class UICommand {
    static let maxClients = 16
    static let requestTimeoutNs: UInt64 = 5_000_000_000

    let address: WebAddress
    let token: String?
    private let listener: Listener
    private var clients: [(fd: Int32, input: [UInt8], deadlineNs: UInt64)] = []

    /// The `ui` options: `--web` and `--web-token` of the run's table, so their values and errors are the run's.
    static let table = OptionTable.run.filter { $0.name == "web" || $0.name == "web-token" }

    public static func main(_ arguments: [String]) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            writeStandardOutput(HelpText.ui)
            return ExitCode.completed
        }
        var options = RunOptions()
        do {
            options = try OptionParser.parse(arguments, table: table, into: options, command: "metronome ui")
            if options.web == nil { options.web = try WebAddress.parse(String(WebAddress.defaultPort)) }
            try options.checkWeb()
        } catch {
            writeStandardError("error: \(error)\n")
            return ExitCode.usage
        }
        let server: UICommand
        do {
            server = try UICommand(address: options.web!, token: options.webToken)
        } catch {
            writeStandardError("error: --web \(options.web!): cannot listen there: \(error)\n")
            return ExitCode.usage
        }
        ignoreSIGPIPE()
        writeStandardError("metronome ui: open \(server.url) to start a run (Ctrl-C to quit)\n")
        server.serve()
    }

    init(address: WebAddress, token: String?) throws {
        listener = try Listener(host: address.host, port: address.port, backlog: 32)
        // Port 0 took a free port: the run must bind that same one.
        self.address = WebAddress(host: address.host, port: listener.boundPort, octets: address.octets)
        self.token = token
    }

    var url: String { "http://\(address.host == "0.0.0.0" ? "127.0.0.1" : address.host):\(address.port)/" }

    /// Until a run replaces the process (or a signal ends it).
    private func serve() -> Never {
        var fds: [pollfd] = []
        while true {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
            for client in clients { fds.append(pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 200)
            var index = clients.count - 1
            while index >= 0 {
                if fds[index + 1].revents != 0 { read(index) }
                index -= 1
            }
            if fds[0].revents & Int16(POLLIN) != 0 { accept() }
            let now = monotonicNs()
            index = clients.count - 1
            while index >= 0 {
                if clients[index].deadlineNs <= now {
                    answer(index, WebRequest.error(408, "Request Timeout", "the request did not arrive within 5 s"))
                }
                index -= 1
            }
        }
    }

    private func accept() {
        while case .connection(let fd) = listener.acceptOne() {
            if clients.count >= Self.maxClients {
                closeDescriptor(fd)
                continue
            }
            clients.append((fd, [], monotonicNs() &+ Self.requestTimeoutNs))
        }
    }

    private func read(_ index: Int) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(clients[index].fd, $0.baseAddress, $0.count, 0) }
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
            closeDescriptor(clients[index].fd)
            clients.remove(at: index)
            return
        }
        guard count > 0 else { return }
        clients[index].input += buffer[0..<count]
        switch WebRequest.parse(clients[index].input) {
        case (.incomplete, _):
            if clients[index].input.count > WebRequest.maxHeaderBytes + WebRequest.maxBodyBytes + 4 {
                answer(index, WebRequest.error(413, "Content Too Large", "request too large"))
            }
        case (.tooLarge, _):
            answer(index, WebRequest.error(413, "Content Too Large", "request too large (headers up to \(WebRequest.maxHeaderBytes) bytes, body up to \(WebRequest.maxBodyBytes))"))
        case (.bad, _), (.request, nil):
            answer(index, WebRequest.error(400, "Bad Request", "malformed HTTP request"))
        case (.request, let request?):
            route(index, request)
        }
    }

    /// Answers are a few kilobytes: one send on a fresh socket takes them whole; whatever does not
    /// go at once is dropped with the client, never waited for.
    private func answer(_ index: Int, _ bytes: [UInt8]) {
        let fd = clients[index].fd
        clients.remove(at: index)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
        _ = shutdown(fd, Int32(SHUT_WR))
        closeDescriptor(fd)
    }

    private func page(_ status: Int, _ reason: String, _ html: String) -> [UInt8] {
        WebRequest.response(status, reason, type: "text/html; charset=utf-8", body: html)
    }

    private func route(_ index: Int, _ request: WebRequest) {
        if let problem = address.hostProblem(request) {
            answer(index, WebRequest.error(403, "Forbidden", problem))
            return
        }
        switch (request.method, request.path) {
        case ("GET", "/"), ("HEAD", "/"):
            answer(index, page(200, "OK", StartPage.render(StartForm(), tokenNeeded: token != nil)))
        case ("POST", "/start"):
            start(index, request)
        case (_, "/"), (_, "/start"):
            answer(index, WebRequest.error(405, "Method Not Allowed", "\(request.method) is not allowed on \(request.path)"))
        default:
            answer(index, WebRequest.error(404, "Not Found", "no page \(request.path): no run yet, start one at /"))
        }
    }

    private func start(_ index: Int, _ request: WebRequest) {
        if request.isCrossOrigin {
            answer(index, WebRequest.error(403, "Forbidden", "cross-origin start refused"))
            return
        }
        guard let form = StartForm.decode(request.body) else {
            answer(index, WebRequest.error(400, "Bad Request", "the body must be an HTML form (application/x-www-form-urlencoded, UTF-8)"))
            return
        }
        var shown = form
        // A form that held a secret in its free text is not filled back in: the page would carry it.
        let holdsSecret: Bool
        if let words = try? StartForm.shellWords(form.extra) {
            holdsSecret = SecretMask.secrets(inArguments: words).contains { form.extra.contains($0) }
        } else {
            holdsSecret = ["--api-key", "--header", "authorization"].contains { form.extra.lowercased().contains($0) }
        }
        var note: String?
        if holdsSecret {
            shown.extra = ""
            note = "The options held a secret (--api-key or a credential header), so they are not shown again: enter them again."
        }
        if let token {
            let given = request.headers["authorization"].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? form.token
            guard WebServer.sameBytes(given, token) else {
                answer(index, page(401, "Unauthorized", StartPage.render(shown, error: "starting a run here needs the --web-token this ui was started with",
                                                                         tokenNeeded: true, note: note)))
                return
            }
        }
        let arguments: [String]
        do {
            arguments = try form.runArguments(web: address, token: token)
        } catch {
            answer(index, page(400, "Bad Request", StartPage.render(shown, error: error.description, tokenNeeded: token != nil, note: note)))
            return
        }
        let secrets = SecretMask.secrets(inArguments: arguments) + (token.map { [$0] } ?? [])
        let command = SecretMask.mask((["metronome", "run"] + arguments).map(Self.shellQuoted).joined(separator: " "), secrets: secrets)
        if let problem = Self.check(arguments) {
            let message = SecretMask.mask(problem.message, secrets: secrets) + " (the command line would exit \(problem.exitCode))"
            answer(index, page(400, "Bad Request", StartPage.render(shown, error: message, command: command, tokenNeeded: token != nil, note: note)))
            return
        }
        writeStandardError("metronome ui: starting \(command)\n")
        answer(index, page(200, "OK", StartPage.starting(command: command)))
        replaceProcess(runArguments: arguments)
    }

    /// The run's own checks, in its order: the parser, the report directory, then the whole setup
    /// (URL, plan, workload, files, address, model discovery). Nothing of it is kept: the run does it again.
    static func check(_ arguments: [String]) -> (message: String, exitCode: Int32)? {
        do {
            let options = try OptionTable.parse(arguments)
            if !options.noFiles {
                let prefix = options.name ?? ReportFiles.defaultPrefix(unixS: wallClockSeconds())
                do { try ReportFiles.checkWritable(directory: options.outDirectory, prefix: prefix) } catch {
                    throw UsageError("--out", "'\(options.outDirectory)' cannot hold the report files: \(error)")
                }
            }
            _ = try LoadRun(options: options)
            return nil
        } catch let error as UsageError {
            return (error.description, ExitCode.usage)
        } catch {
            return ("\(error)", ExitCode.failed)
        }
    }

    /// Closes the listener and every client, then becomes `metronome run` (the same binary).
    private func replaceProcess(runArguments: [String]) -> Never {
        for client in clients { closeDescriptor(client.fd) }
        clients.removeAll()
        listener.close()
        let argv = ([CommandLine.arguments.first ?? "metronome", "run"] + runArguments).map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        writeStandardError("error: metronome ui could not start the run: execv /proc/self/exe: \(String(cString: strerror(errno)))\n")
        exit(ExitCode.failed)
    }

    /// For the command shown on the page and the terminal: a word a shell would read back as one.
    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_./:=,@%+".unicodeScalars.contains(scalar)
        }
        return plain ? word : "'" + word.replacingAll("'", with: "'\\''") + "'"
    }
}
