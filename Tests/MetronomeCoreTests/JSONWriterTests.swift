// The JSON writer: ordered keys, escaping, and output Foundation parses back to the same values.
import Foundation
import XCTest
@testable import MetronomeCore

final class JSONWriterTests: XCTestCase {
    func testWritesParseableOrderedJSON() throws {
        for pretty in [true, false] {
            var json = JSONWriter(pretty: pretty)
            json.beginObject()
            json.string("b", "quote \" backslash \\ newline \n tab \t ctl \u{01} é")
            json.int("a", 42)
            json.number("x", 1.5)
            json.number("nan", .nan)
            json.bool("t", true)
            json.beginArray("list")
            json.int(nil, 1)
            json.beginObject()
            json.endObject()
            json.beginArray()
            json.endArray()
            json.endArray()
            json.endObject()
            let object = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as! [String: Any]
            XCTAssertEqual(object["b"] as? String, "quote \" backslash \\ newline \n tab \t ctl \u{01} é")
            XCTAssertEqual(object["a"] as? Int, 42)
            XCTAssertEqual(object["x"] as? Double, 1.5)
            XCTAssertTrue(object["nan"] is NSNull)
            XCTAssertEqual((object["list"] as? [Any])?.count, 3)
            XCTAssertLessThan(json.text.range(of: "\"b\"")!.lowerBound, json.text.range(of: "\"a\"")!.lowerBound)
        }
    }
}
