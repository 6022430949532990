// `--web`: the live web view's HTTP server, on a thread of its own, bounded against any browser.
import Glibc
import Synchronization

/// Serves `/`, `/stats.json`, `/events` (server-sent events, one a second) and the controls
/// `POST /rate` and `POST /stop`. It reads the run only through `LiveView` (relaxed loads of the
/// engine's counters and histograms, once a second) and talks to the loop only through
/// `EngineCommands` (one atomic slot the loop polls once a turn), so nothing it does can hold a send.
///
/// Bounds: `maxClients` sockets at once (more are closed at accept), `maxEventClients` of them on
/// `/events`; a request must arrive whole within `requestTimeoutNs` and fit `WebRequest`'s limits
/// (413 past them); a client that does not read its answer (or its events) within bounds is dropped.
/// Figures are computed once a second whatever the number of requests.
public final class WebServer: @unchecked Sendable {
    static let maxClients = 16
    static let maxEventClients = 8
    static let requestTimeoutNs: UInt64 = 5_000_000_000
    static let maxPendingOutput = 256 * 1024
    static let maxRateValue = 10_000_000.0
    static let maxRampSeconds = 86_400.0

    public let address: WebAddress
    public let port: UInt16
    let view: LiveView
    private let commands: EngineCommands?
    private let token: String?
    private let closedLoop: Bool
    private let listener: Listener
    private let stopFlag = Atomic<Bool>(false)
    private let stopAsked = Atomic<Bool>(false)
    private var rateChanges = 0
    /// The HTML report once written, served at `/report`.
    private let reportHTML = Mutex<String?>(nil)
    private var thread: BackgroundThread?

    private struct Client {
        var fd: Int32
        var input: [UInt8] = []
        var output: [UInt8] = []
        var sent = 0
        var deadlineNs: UInt64
        var isEvents = false
        var closeWhenWritten = false
    }
    private var clients: [Client] = []

    /// Binds at once, so that a port in use is an error before the run starts.
    public init(address: WebAddress, token: String?, stats: RunStats, plan: RatePlan, commands: EngineCommands?,
                closedLoop: Bool, isLLM: Bool, title: String, slo: [SLOCheck] = []) throws {
        self.address = address
        self.token = token
        self.commands = commands
        self.closedLoop = closedLoop
        listener = try Listener(host: address.host, port: address.port, backlog: 32)
        port = listener.boundPort
        view = LiveView(stats: stats, plan: plan, commands: commands, isLLM: isLLM, title: title, slo: slo)
    }

    public var url: String { "http://\(address.host == "0.0.0.0" ? "127.0.0.1" : address.host):\(port)/" }

    /// True once `POST /stop` came (during the run it also ended the plan; after it, it ends `--web-keep`).
    public var wasAskedToStop: Bool { stopAsked.load(ordering: .relaxed) }

    public func start() {
        thread = BackgroundThread(name: "metronome-web") { [self] in loop() }
    }

    /// The run ended: the page shows "done" and links the report (a path relative to the working directory).
    public func runEnded(report: String?, html: String?) {
        reportHTML.withLock { $0 = html }
        view.finished.withLock { $0 = (true, report) }
        stopAsked.store(false, ordering: .relaxed)
    }

    /// `--web-keep`: serves on until SIGINT/SIGTERM (blocked in every thread, so taken here) or
    /// `POST /stop`.
    public func waitForStop() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var wait = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        while !wasAskedToStop {
            if sigtimedwait(&set, nil, &wait) > 0 { return }
        }
    }

    public func finish() {
        stopFlag.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil
        closeDescriptor(listener.fd)
    }

    // MARK: The thread

    private func loop() {
        // Nice 10 for this thread alone: on a busy host the scheduler then gives a contended core
        // to the loop thread first (Linux keeps a nice value per thread).
        _ = setpriority(__priority_which_t(0), 0, 10) // PRIO_PROCESS, 0: on Linux, the calling thread
        view.tick()
        var nextTickNs = monotonicNs() &+ 1_000_000_000
        var fds: [pollfd] = []
        while !stopFlag.load(ordering: .relaxed) {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
            for client in clients {
                let wantsOutput = client.sent < client.output.count
                fds.append(pollfd(fd: client.fd, events: Int16(POLLIN) | (wantsOutput ? Int16(POLLOUT) : 0), revents: 0))
            }
            let now = monotonicNs()
            let waitMs = Int32(min(100, nextTickNs > now ? (nextTickNs - now) / 1_000_000 + 1 : 0))
            _ = poll(&fds, nfds_t(fds.count), waitMs)
            // Clients first (their indices match fds[1...]), then new ones.
            var index = clients.count - 1
            while index >= 0 {
                let revents = fds[index + 1].revents
                if revents != 0 { service(index, revents: revents) }
                index -= 1
            }
            if fds[0].revents & Int16(POLLIN) != 0 { acceptClients() }
            let after = monotonicNs()
            if after >= nextTickNs {
                view.tick()
                broadcast()
                nextTickNs = max(nextTickNs &+ 1_000_000_000, after &+ 500_000_000)
            }
            expire(after)
        }
        for client in clients { closeDescriptor(client.fd) }
        clients.removeAll()
    }

    private func acceptClients() {
        while case .connection(let fd) = listener.acceptOne() {
            if clients.count >= Self.maxClients {
                closeDescriptor(fd)
                continue
            }
            clients.append(Client(fd: fd, deadlineNs: monotonicNs() &+ Self.requestTimeoutNs))
        }
    }

    private func service(_ index: Int, revents: Int16) {
        let fd = clients[index].fd
        if revents & Int16(POLLOUT) != 0 { flush(index) }
        guard index < clients.count && clients[index].fd == fd else { return } // dropped by flush
        if revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { read(index) }
    }

    private func read(_ index: Int) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(clients[index].fd, $0.baseAddress, $0.count, 0) }
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
            drop(index)
            return
        }
        guard count > 0 else { return }
        // Once answered (or on /events), whatever else a client sends is read and ignored.
        if clients[index].isEvents || !clients[index].output.isEmpty { return }
        clients[index].input += buffer[0..<count]
        let (parse, request) = WebRequest.parse(clients[index].input)
        switch parse {
        case .incomplete:
            if clients[index].input.count > WebRequest.maxHeaderBytes + WebRequest.maxBodyBytes + 4 {
                answer(index, WebRequest.error(413, "Content Too Large", "request too large"))
            }
        case .tooLarge:
            answer(index, WebRequest.error(413, "Content Too Large", "request too large (headers up to \(WebRequest.maxHeaderBytes) bytes, body up to \(WebRequest.maxBodyBytes))"))
        case .bad:
            answer(index, WebRequest.error(400, "Bad Request", "malformed HTTP request"))
        case .request:
            route(index, request!)
        }
    }

    private func answer(_ index: Int, _ bytes: [UInt8], events: Bool = false) {
        clients[index].input = []
        clients[index].output = bytes
        clients[index].sent = 0
        clients[index].isEvents = events
        clients[index].closeWhenWritten = !events
        clients[index].deadlineNs = monotonicNs() &+ Self.requestTimeoutNs
        flush(index)
    }

    private func flush(_ index: Int) {
        var client = clients[index]
        while client.sent < client.output.count {
            let count = client.output.withUnsafeBytes { send(client.fd, $0.baseAddress! + client.sent, $0.count - client.sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { break }
                drop(index)
                return
            }
            client.sent += count
        }
        if client.sent == client.output.count {
            if client.closeWhenWritten {
                clients[index] = client
                drop(index)
                return
            }
            client.output.removeAll(keepingCapacity: true)
            client.sent = 0
        }
        clients[index] = client
    }

    private func drop(_ index: Int) {
        closeDescriptor(clients[index].fd)
        clients.remove(at: index)
    }

    /// Requests not whole in time get 408; answers (and events) not read in time drop the client.
    private func expire(_ now: UInt64) {
        var index = clients.count - 1
        while index >= 0 {
            let client = clients[index]
            index -= 1
            guard client.deadlineNs <= now else { continue }
            let pending = client.sent < client.output.count
            if client.isEvents && !pending { continue } // an idle stream is fine
            if !client.isEvents && client.output.isEmpty {
                answer(index + 1, WebRequest.error(408, "Request Timeout", "the request did not arrive within 5 s"))
            } else {
                drop(index + 1)
            }
        }
    }

    private func broadcast() {
        let event = Array("data: \(view.json())\n\n".utf8)
        var index = clients.count - 1
        while index >= 0 {
            if clients[index].isEvents {
                if clients[index].output.count - clients[index].sent + event.count > Self.maxPendingOutput {
                    drop(index) // not reading: a slow browser is let go, never waited for
                } else {
                    if clients[index].sent == clients[index].output.count { clients[index].deadlineNs = monotonicNs() &+ Self.requestTimeoutNs }
                    clients[index].output += event
                    flush(index)
                }
            }
            index -= 1
        }
    }

    // MARK: Routes

    private func route(_ index: Int, _ request: WebRequest) {
        if let problem = address.hostProblem(request) {
            answer(index, WebRequest.error(403, "Forbidden", problem))
            return
        }
        switch (request.method, request.path) {
        case ("GET", "/"), ("HEAD", "/"):
            answer(index, WebRequest.response(200, "OK", type: "text/html; charset=utf-8", body: WebPage.render(view, controls: commands != nil, tokenNeeded: token != nil)))
        case ("GET", "/report"):
            if let html = reportHTML.withLock({ $0 }) {
                answer(index, WebRequest.response(200, "OK", type: "text/html; charset=utf-8", body: html))
            } else {
                answer(index, WebRequest.error(404, "Not Found", "the report is written when the run ends (and not with --no-files)"))
            }
        case ("GET", "/stats.json"):
            answer(index, WebRequest.json(200, "OK", view.json()))
        case ("GET", "/events"):
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n"
            if clients.filter(\.isEvents).count >= Self.maxEventClients {
                answer(index, WebRequest.error(503, "Service Unavailable", "too many /events clients (\(Self.maxEventClients))"))
                return
            }
            answer(index, Array((head + "retry: 1000\n\ndata: \(view.json())\n\n").utf8), events: true)
        case ("POST", "/rate"):
            control(index, request) { self.rate(request) }
        case ("POST", "/stop"):
            control(index, request) { self.stop() }
        case (_, "/"), (_, "/stats.json"), (_, "/events"), (_, "/rate"), (_, "/stop"):
            answer(index, WebRequest.error(405, "Method Not Allowed", "\(request.method) is not allowed on \(request.path)"))
        default:
            answer(index, WebRequest.error(404, "Not Found", "no page \(request.path)"))
        }
    }

    private func control(_ index: Int, _ request: WebRequest, _ action: () -> (Int, String, String)) {
        if request.isCrossOrigin {
            answer(index, WebRequest.error(403, "Forbidden", "cross-origin control refused"))
            return
        }
        if let token {
            let given = request.headers["authorization"] ?? ""
            guard Self.sameBytes(given, "Bearer " + token) else {
                answer(index, WebRequest.error(401, "Unauthorized", "this control needs Authorization: Bearer <the --web-token>"))
                return
            }
        }
        let (status, reason, body) = action()
        answer(index, WebRequest.json(status, reason, body))
    }

    private func rate(_ request: WebRequest) -> (Int, String, String) {
        guard let commands else { return (409, "Conflict", "{\"ok\":false,\"error\":\"no run to control\"}") }
        guard let object = try? JSONValue.parse(request.body), let members = object.objectValue else {
            return (400, "Bad Request", Self.failure("the body must be a JSON object like {\"rate\": 50, \"ramp_s\": 10}"))
        }
        guard let rate = object["rate"]?.doubleValue, rate.isFinite, rate >= 0, rate <= Self.maxRateValue else {
            return (400, "Bad Request", Self.failure("\"rate\" must be a number from 0 to \(Int(Self.maxRateValue)) (requests/s)"))
        }
        let rampS = object["ramp_s"] == nil ? 0 : object["ramp_s"]?.doubleValue
        guard let rampS, rampS.isFinite, rampS >= 0, rampS <= Self.maxRampSeconds else {
            return (400, "Bad Request", Self.failure("\"ramp_s\" must be a number of seconds from 0 to \(Int(Self.maxRampSeconds))"))
        }
        if let unknown = members.first(where: { $0.key != "rate" && $0.key != "ramp_s" })?.key {
            return (400, "Bad Request", Self.failure("unknown field \"\(unknown)\" (give rate and ramp_s)"))
        }
        if closedLoop { return (409, "Conflict", Self.failure("a closed loop's workers set the rate (--concurrency); only /stop applies")) }
        if view.figures.state != "running" { return (409, "Conflict", Self.failure("the plan has ended")) }
        if rateChanges >= commands.maxRateChanges {
            return (409, "Conflict", Self.failure("at most \(commands.maxRateChanges) rate changes in a run"))
        }
        guard commands.send(.rate(perSec: rate, rampNs: UInt64((rampS * 1e9).rounded()))) else {
            return (503, "Service Unavailable", Self.failure("the previous command has not reached the loop yet; retry"))
        }
        rateChanges += 1
        return (200, "OK", "{\"ok\":true,\"rate\":\(Format.trimmed(rate, decimals: 3)),\"ramp_s\":\(Format.trimmed(rampS, decimals: 3))}")
    }

    private func stop() -> (Int, String, String) {
        stopAsked.store(true, ordering: .relaxed)
        if view.figures.state == "running", let commands {
            guard commands.send(.stop) else {
                return (503, "Service Unavailable", Self.failure("the previous command has not reached the loop yet; retry"))
            }
        }
        return (200, "OK", "{\"ok\":true,\"stopping\":true}")
    }

    private static func failure(_ message: String) -> String { "{\"ok\":false,\"error\":\(JSONWriter.quote(message))}" }

    /// Compares without stopping at the first difference (a token's prefix cannot be timed out).
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
