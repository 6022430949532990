// Which headers are secret, and that usage errors find their values in any message.
import Foundation
import XCTest
@testable import MetronomeCore

final class UsageSecretMaskTests: XCTestCase {
    func testSecretHeaderNames() {
        for name in ["Authorization", "proxy-authorization", "Cookie", "X-Api-Key", "Api-Key", "X-Auth-Token", "X-Secret", "Token",
                     "OpenAI-Key"] {
            XCTAssertTrue(SecretMask.isSecretHeader(name), name)
            XCTAssertEqual(RunOptions.masked((name, "v")), "\(name): ***")
        }
        for name in ["Content-Type", "Accept", "X-Request-Id", "User-Agent"] {
            XCTAssertFalse(SecretMask.isSecretHeader(name), name)
        }
    }

    func testSecretsFromArgumentsAndConfigAreMaskedInAnyMessage() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("metronome-mask-\(getpid()).json")
        try Data(#"{"api_key": "sk-from-file", "header": ["Cookie: session=abc123"]}"#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let secrets = SecretMask.secrets(inArguments: ["--api-key", "sk-1", "--header", "Authorization: Bearer tok-2", "--header", "Accept: x",
                                                       "--header=X-Token: t3", "--config", config.path])
        let message = "sk-1 Bearer tok-2 tok-2 t3 Accept: x sk-from-file session=abc123"
        XCTAssertEqual(SecretMask.mask(message, secrets: secrets), "*** *** *** *** Accept: x *** ***")
        XCTAssertEqual(SecretMask.maskedHeaderText("Authorization Bearer sk"), "Authorization ***")
        XCTAssertEqual(SecretMask.maskedHeaderText("Auth orization: sk"), "Auth ***")
        XCTAssertEqual(SecretMask.maskedHeaderText("NoValue"), "NoValue")
    }

    /// Usage errors of --header never echo the value, whatever the name.
    func testHeaderUsageErrorsDoNotEchoValues() {
        for bad in ["Authorization Bearer sk-9", "X Token: sk-9", "Bad Name: sk-9"] {
            XCTAssertThrowsError(try OptionTable.parse(["--header", bad])) { error in
                XCTAssertFalse("\(error)".contains("sk-9"), "\(error)")
            }
        }
    }
}
