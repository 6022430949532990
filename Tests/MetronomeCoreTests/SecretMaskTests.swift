// Which values are secret, and how they are hidden in text: tables.
import XCTest
@testable import MetronomeCore

final class SecretMaskTests: XCTestCase {
    static let mask = SecretMask(apiKey: "sk-abc123456", headers: [
        ("Authorization", "Bearer tok-1234567"), ("X-Team", "perf"), ("X-Auth-Token", " t0k3n-value "),
        ("Cookie", "a=cookie-one; b=cookie-two"), ("X-Api-Key", "k"), ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
    ])

    func testSecretsAreTheKeyAndTheValuesOfSecretHeaders() {
        let secrets = Set(Self.mask.secrets.map { String(decoding: $0, as: UTF8.self) })
        XCTAssertEqual(secrets, ["Bearer sk-abc123456", "sk-abc123456", "Bearer tok-1234567", "tok-1234567", "t0k3n-value",
                                 "a=cookie-one; b=cookie-two", "cookie-one", "cookie-two", "Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"])
        XCTAssertEqual(Self.mask.secrets.map(\.count), Self.mask.secrets.map(\.count).sorted(by: >), "longest first")
        XCTAssertTrue(SecretMask().isEmpty)
    }

    func testSecretHeaderNames() {
        for name in ["Authorization", "proxy-authorization", "COOKIE", "X-Api-Key", "api-key", "X-Auth-Token", "x-custom-secret",
                     "X-Session-Token", "Some-Key", "X-Authentication"] {
            XCTAssertTrue(SecretMask.isSecretHeader(name), name)
        }
        for name in ["Content-Type", "X-Team", "Accept", "User-Agent", "Host"] {
            XCTAssertFalse(SecretMask.isSecretHeader(name), name)
        }
    }

    func testMaskedText() {
        let cases: [(String, String)] = [
            ("invalid key sk-abc123456 given", "invalid key *** given"),
            ("invalid credentials: Bearer sk-abc123456", "invalid credentials: ***"),
            ("Bearer tok-1234567 and tok-1234567 alone", "*** and *** alone"),
            ("cookie a=cookie-one; b=cookie-two; c=3", "cookie ***; c=3"),
            ("session cookie-two expired", "session *** expired"),
            ("basic dXNlcjpwYXNz", "basic ***"),
            ("nothing secret here, perf team, k", "nothing secret here, perf team, k"),
            // Clipped at a byte limit: a tail that begins a secret goes too; three bytes are no secret.
            ("the key was sk-abc12", "the key was ***"),
            ("ends in sk-", "ends in sk-"),
            ("«sk-abc123456» ✓", "«***» ✓"),
            ("", ""),
        ]
        for (text, expected) in cases { XCTAssertEqual(Self.mask.masked(text), expected, text) }
        XCTAssertEqual(SecretMask().masked("sk-abc123456"), "sk-abc123456")
    }

    func testFailureLogKeepsMessagesMaskedAndCountsRepeats() {
        let log = FailureLog(mask: Self.mask)
        for _ in 0..<3 {
            var text = "bad token tok-1234567"
            text.withUTF8 { log.noteMessage(.httpError, status: 401, message: UnsafeRawBufferPointer($0)) }
        }
        XCTAssertEqual(log.messages.count, 1)
        XCTAssertEqual(log.messages.first?.message, "bad token ***")
        XCTAssertEqual(log.messages.first?.count, 3)
    }

    /// The writers' second line of defence: a secret header shown by name, and server text, masked
    /// even where the capture was bypassed.
    func testSummaryMaskedForWriters() {
        var summary = SampleSummary.make()
        summary.secrets = Self.mask
        summary.config.append(("header", "X-Auth-Token: abc"))
        summary.errorMessages = [("http_error", 500, "echo: Bearer tok-1234567", 1)]
        summary.warnings.append("server said sk-abc123456")
        let masked = summary.maskingSecrets()
        XCTAssertTrue(masked.config.contains { $0.key == "header" && $0.value == "X-Auth-Token: ***" })
        XCTAssertEqual(masked.errorMessages.first?.message, "echo: ***")
        XCTAssertEqual(masked.warnings.last, "server said ***")
        for text in [LocustCSV.failures(summary), SummaryFile.render(summary), HTMLReport.render(summary, title: "t"),
                     TextReport.render(summary, planDescription: ""), JSONReport.render(summary)] {
            XCTAssertFalse(text.contains("tok-1234567") || text.contains("sk-abc123456") || text.contains("X-Auth-Token: abc"))
        }
    }
}
