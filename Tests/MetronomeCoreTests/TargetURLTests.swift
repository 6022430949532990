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
        ]
        for (text, host, port, target, hostHeader) in table {
            let url = try TargetURL(parsing: text)
            XCTAssertEqual(url.host, host, text)
            XCTAssertEqual(url.port, port, text)
            XCTAssertEqual(url.target, target, text)
            XCTAssertEqual(url.hostHeader, hostHeader, text)
        }
    }

    func testRejectedForms() {
        let table: [(String, TargetURLError)] = [
            ("https://x", .httpsUnsupported), ("x:80", .missingScheme), ("ftp://x", .unsupportedScheme("ftp")),
            ("http://u:p@x", .userInfoUnsupported), ("http://:80", .badHost), ("http://x:0", .badPort("0")),
            ("http://x:99999", .badPort("99999")), ("http://[::1", .badHost), ("http://x/a b", .badTarget),
        ]
        for (text, expected) in table {
            XCTAssertThrowsError(try TargetURL(parsing: text), text) { error in
                XCTAssertEqual(error as? TargetURLError, expected, text)
            }
        }
    }
}
