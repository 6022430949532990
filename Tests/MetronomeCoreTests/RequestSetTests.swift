// Many prepared requests in one buffer: each entry's bytes, its own sequence field, from every offset.
import Glibc
import XCTest
@testable import MetronomeCore

final class RequestSetTests: XCTestCase {
    func testEntriesKeepTheirBytesAndFieldsFromEveryOffset() {
        let marker = Array("####".utf8)
        let templates = [
            RequestTemplate(method: "POST", target: "/", hostHeader: "h", headers: [], body: Array("{\"a\":\"####x\"}".utf8), sequenceMarker: marker),
            RequestTemplate(method: "POST", target: "/", hostHeader: "h", headers: [], body: Array("{\"longer\":\"prefix ####\"}".utf8), sequenceMarker: marker),
            RequestTemplate(method: "POST", target: "/", hostHeader: "h", headers: [], body: Array("no field".utf8), sequenceMarker: marker),
        ]
        let set = RequestSet(templates)
        XCTAssertEqual(set.entryCount, 3)
        XCTAssertEqual((0..<7).map { set.entry(forSequence: UInt64($0)) }, [0, 1, 2, 0, 1, 2, 0])
        let digits = Array("0042".utf8)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: 3)
        defer { vectors.deallocate() }
        for (index, template) in templates.enumerated() {
            XCTAssertEqual(set.request(index), Array(UnsafeRawBufferPointer(template.bytes)))
            XCTAssertEqual(set.count(of: Int32(index)), template.count)
            XCTAssertEqual(set.sequenceWidth(of: Int32(index)), template.sequenceField?.count ?? 0)
            var expected = Array(UnsafeRawBufferPointer(template.bytes))
            if let field = template.sequenceField { expected.replaceSubrange(field, with: digits) }
            digits.withUnsafeBytes { digitBytes in
                for offset in 0..<template.count {
                    let count = set.vectors(Int32(index), from: offset, digits: digitBytes.baseAddress!, into: vectors)
                    var gathered: [UInt8] = []
                    for vector in 0..<Int(count) {
                        gathered += UnsafeRawBufferPointer(start: vectors[vector].iov_base, count: vectors[vector].iov_len)
                    }
                    XCTAssertEqual(gathered, Array(expected[offset...]), "entry \(index) offset \(offset)")
                }
            }
        }
    }

    func testLengthSpreadSamplesStayInRangeAndCoverIt() {
        var random = SeededRandom(seed: 3)
        let uniform = (0..<5000).map { _ in LengthSpread.percent(0.1).sample(nominal: 1000, random: &random) }
        XCTAssertEqual(uniform.min(), 900)
        XCTAssertEqual(uniform.max(), 1100)
        let range = (0..<5000).map { _ in LengthSpread.range(5, 8).sample(nominal: 0, random: &random) }
        XCTAssertEqual(Set(range), [5, 6, 7, 8])
        let normal = (0..<20000).map { _ in Double(LengthSpread.normal(mean: 100, sd: 10).sample(nominal: 0, random: &random)) }
        let mean = normal.reduce(0, +) / Double(normal.count)
        let sd = (normal.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(normal.count)).squareRoot()
        XCTAssertEqual(mean, 100, accuracy: 0.5)
        XCTAssertEqual(sd, 10, accuracy: 0.5)
        XCTAssertEqual((0..<1000).map { _ in LengthSpread.normal(mean: 1, sd: 50).sample(nominal: 0, random: &random) }.min(), 1, "clamped to 1")
        XCTAssertEqual(try LengthSpread.parse("12.5%", flag: "-"), .percent(0.125))
        XCTAssertEqual(try LengthSpread.parse("3:9", flag: "-"), .range(3, 9))
        XCTAssertEqual(try LengthSpread.parse("normal:10,2", flag: "-"), .normal(mean: 10, sd: 2))
        for bad in ["", "10", "100%", "-1%", "9:3", "0:3", "normal:", "normal:0,1", "normal:5,-1", "a:b"] {
            XCTAssertThrowsError(try LengthSpread.parse(bad, flag: "--length-spread"), bad)
        }
    }

    func testPrefixGroupsDifferAndAreReproducible() {
        let prefixes = SyntheticText.prefixes(tokens: 20, groups: 4, seed: 7)
        XCTAssertEqual(prefixes, SyntheticText.prefixes(tokens: 20, groups: 4, seed: 7))
        XCTAssertEqual(Set(prefixes.map { $0.split(separator: " ").first! }).count, 4)
        XCTAssertTrue(prefixes.allSatisfy { $0.split(separator: " ").count == 20 && TokenEstimate.tokens($0) == 20 })
        XCTAssertEqual(Set(SyntheticText.words).count, SyntheticText.words.count)
        XCTAssertTrue(SyntheticText.words.allSatisfy { $0.count == 3 && $0.allSatisfy(\.isLowercase) }, "four characters with the space: one token for ⌈chars/4⌉ too")
    }

    func testEntryCountPairsEverySourceWithEveryGroup() {
        XCTAssertEqual(PromptSet.entryCount(sources: 1, groups: 1), 1)
        XCTAssertEqual(PromptSet.entryCount(sources: 1, groups: 4), 4)
        XCTAssertEqual(PromptSet.entryCount(sources: 10, groups: 5), 10)
        XCTAssertEqual(PromptSet.entryCount(sources: 3, groups: 4), 12)
        XCTAssertEqual(PromptSet.entryCount(sources: 99_991, groups: 7), 99_991)
    }
}
