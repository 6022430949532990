// The target URL: what is accepted, what each part becomes, and the errors for the rest.
import XCTest
@testable import MetronomeCore

final class TargetURLTests: XCTestCase {
    func testAcceptedForms() throws {
        let table: [(String, String, UInt16, String, String)] = [
            ("http://127.0.0.1:8000", "127.0.0.1", 8000, "/", "127.0.0.1:8000"),
            ("http://localhost/v1/models", "localhost", 80, "/v1/models", "localhost"),
            ("http://[::1]:9000/a?b=c", "::1", 9000, "/a?b=c", "[::1]:9000"),
            ("http://[::1]", "::1", 80, "/", "[::1]"),
            ("HTTP://Example.com:81?q=1", "Example.com", 81, "/?q=1", "Example.com:81"),
            ("http://h:1/p#frag", "h", 1, "/p", "h:1"),
            // https: port 443 unless given, and left out of the Host header when it is 443.
            ("https://api.example.com/v1", "api.example.com", 443, "/v1", "api.example.com"),
            ("HTTPS://[::1]:8443", "::1", 8443, "/", "[::1]:8443"),
            ("https://h:80/", "h", 80, "/", "h:80"),
        ]
        for (text, host, port, target, hostHeader) in table {
            let url = try TargetURL(parsing: text)
            XCTAssertEqual(url.host, host, text)
            XCTAssertEqual(url.port, port, text)
            XCTAssertEqual(url.target, target, text)
            XCTAssertEqual(url.hostHeader, hostHeader, text)
            XCTAssertEqual(url.isTLS, text.lowercased().hasPrefix("https://"), text)
            XCTAssertEqual(url.description.hasPrefix("https://"), url.isTLS, text)
        }
    }

    func testRejectedForms() {
        let table: [(String, TargetURLError)] = [
            ("x:80", .missingScheme), ("httpx://x", .unsupportedScheme("httpx")), ("ftp://x", .unsupportedScheme("ftp")),
            ("http://u:p@x", .userInfoUnsupported), ("http://:80", .badHost), ("http://x:0", .badPort("0")),
            ("http://x:99999", .badPort("99999")), ("http://[::1", .badHost), ("http://x/a b", .invalidByte(0x20, at: 10)),
            ("http://x:+80", .badPort("+80")), ("http://x: 80", .invalidByte(0x20, at: 9)),
            // Header injection through the request line or the Host header.
            ("http://x/a\r\nX-Injected: 1", .invalidByte(0x0D, at: 10)), ("http://x/a\nb", .invalidByte(0x0A, at: 10)),
            ("http://x/?q=\t", .invalidByte(0x09, at: 12)), ("http://x\r\nX: 1/", .invalidByte(0x0D, at: 8)),
            ("http://x/\u{0}", .invalidByte(0x00, at: 9)), ("http://x/\u{7f}", .invalidByte(0x7F, at: 9)),
            ("http://x/\u{1b}[0m", .invalidByte(0x1B, at: 9)),
            // Raw non-ASCII in the path, the query and the host (é is C3 A9 in UTF-8).
            ("http://x/caf\u{e9}", .invalidByte(0xC3, at: 12)), ("http://x/?q=\u{e9}", .invalidByte(0xC3, at: 12)),
            ("http://b\u{fc}cher.de/", .invalidByte(0xC3, at: 8)),
            // Unbracketed IPv6: it used to parse as host `fe80:` and port 1.
            ("http://fe80::1/", .unbracketedIPv6("fe80::1")), ("http://::1:8000", .unbracketedIPv6("::1:8000")),
        ]
        for (text, expected) in table {
            XCTAssertThrowsError(try TargetURL(parsing: text), text) { error in
                XCTAssertEqual(error as? TargetURLError, expected, text)
            }
        }
    }
}

extension TargetURLTests {
    func testPercentEncodedBytesAreSentAsGiven() throws {
        XCTAssertEqual(try TargetURL(parsing: "http://x/a%0D%0Ab?q=caf%C3%A9").target, "/a%0D%0Ab?q=caf%C3%A9")
    }

    func testMessagesNameTheProblemOnOneLine() {
        XCTAssertEqual(TargetURL.printable("http://x/a\r\nb\t\u{e9}"), "http://x/a\\r\\nb\\t\\xC3\\xA9")
        XCTAssertTrue(TargetURLError.unbracketedIPv6("fe80::1").description.contains("http://[fe80::1]/"))
        XCTAssertTrue(TargetURLError.invalidByte(0x0D, at: 3).description.contains("carriage return"))
        XCTAssertTrue(TargetURLError.invalidByte(0xC3, at: 3).description.contains("%C3"))
    }

    func testResolution() throws {
        XCTAssertEqual(try SocketAddress.resolve(host: "127.0.0.1", port: 8000).description, "127.0.0.1:8000")
        XCTAssertEqual(try SocketAddress.resolve(host: "::1", port: 9).description, "[::1]:9")
        XCTAssertTrue(try SocketAddress.resolveAll(host: "localhost", port: 1).contains { $0.description == "127.0.0.1:1" || $0.description == "[::1]:1" })
        XCTAssertThrowsError(try SocketAddress.resolve(host: "no-such-host.invalid", port: 1)) { error in
            XCTAssertTrue("\(error)".contains("no-such-host.invalid"))
        }
    }

    /// Of several addresses, the one that accepts a connection wins.
    func testProbePicksTheAddressThatAccepts() throws {
        let listener = try Listener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let closed = try Listener(host: "127.0.0.1", port: 0)
        let closedPort = closed.boundPort
        closed.close()
        let open = try SocketAddress.resolve(host: "127.0.0.1", port: listener.boundPort)
        XCTAssertTrue(open.acceptsConnection(timeoutNs: 1_000_000_000))
        XCTAssertFalse(try SocketAddress.resolve(host: "127.0.0.1", port: closedPort).acceptsConnection(timeoutNs: 1_000_000_000))
    }
}
