// Request bytes serialised once, and the per-connection sequence field spliced in by iovecs.
import Glibc
import XCTest
@testable import MetronomeCore

final class RequestTemplateTests: XCTestCase {
    func testSerialisation() {
        let template = RequestTemplate(method: "POST", target: "/v1/x?y=1", hostHeader: "h:8000",
                                       headers: [("X-Key", "v")], body: Array("hello".utf8))
        let text = String(decoding: UnsafeRawBufferPointer(template.bytes), as: UTF8.self)
        XCTAssertEqual(text, "POST /v1/x?y=1 HTTP/1.1\r\nHost: h:8000\r\nUser-Agent: metronome/\(metronomeVersion)\r\nAccept: */*\r\nX-Key: v\r\nContent-Length: 5\r\n\r\nhello")
        let own = RequestTemplate(method: "GET", target: "/", hostHeader: "h", headers: [("host", "other"), ("User-Agent", "me")], body: nil)
        XCTAssertEqual(String(decoding: UnsafeRawBufferPointer(own.bytes), as: UTF8.self), "GET / HTTP/1.1\r\nAccept: */*\r\nhost: other\r\nUser-Agent: me\r\n\r\n")
        XCTAssertTrue(RequestTemplate(method: "HEAD", target: "/", hostHeader: "h", headers: [], body: nil).isHeadRequest)
    }

    /// Gathering the iovecs from every offset must yield the template with the digits in the field.
    func testSequenceFieldFromEveryOffset() {
        let body = Array("{\"n\":\"########\",\"x\":1}".utf8)
        let template = RequestTemplate(method: "POST", target: "/", hostHeader: "h", headers: [], body: body, sequenceMarker: Array("########".utf8))
        XCTAssertNotNil(template.sequenceField)
        let digits = Array("00001234".utf8)
        var expected = Array(UnsafeRawBufferPointer(template.bytes))
        expected.replaceSubrange(template.sequenceField!, with: digits)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: 3)
        defer { vectors.deallocate() }
        let set = RequestSet(template) // what the loop writes from
        digits.withUnsafeBytes { digitBytes in
            for offset in 0..<template.count {
                let count = set.vectors(0, from: offset, digits: digitBytes.baseAddress!, into: vectors)
                var gathered: [UInt8] = []
                for index in 0..<Int(count) {
                    gathered += UnsafeRawBufferPointer(start: vectors[index].iov_base, count: vectors[index].iov_len)
                }
                XCTAssertEqual(gathered, Array(expected[offset...]), "offset \(offset)")
            }
        }
    }
}
