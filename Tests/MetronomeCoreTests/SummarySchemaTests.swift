// The one description of a phase's members covers every member: none can be written and forgotten on the way back.
import XCTest
@testable import MetronomeCore

/// Gives every member a value of its own, different from its default, and remembers the keys asked.
private struct FillingCoder: SummaryCoder {
    var detail: JSONReport.Detail { .full }
    var keys: [String] = []
    var next = 1.0

    mutating func fresh() -> Double {
        next += 1
        return next
    }

    mutating func count(_ key: String, _ value: inout UInt64, optional: Bool) { keys.append(key); value = UInt64(fresh()) }
    mutating func number(_ key: String, _ value: inout Double, decimals: Int, optional: Bool) { keys.append(key); value = fresh() }
    mutating func percentiles(_ key: String, _ value: inout Percentiles, optional: Bool) {
        keys.append(key)
        value.count = UInt64(fresh())
        value.values = Percentiles.levels.map { _ in fresh() }
        value.min = fresh(); value.max = fresh(); value.mean = fresh()
    }
    mutating func tokens(_ key: String, _ value: inout TokenStats?) { keys.append(key); value = TokenStats(mean: fresh(), min: 1, max: 2) }
    mutating func numbers(_ key: String, _ value: inout [Double], decimals: Int, optional: Bool) { keys.append(key); value = [fresh(), fresh()] }
    mutating func outcomeCounts(_ key: String, _ value: inout [(kind: String, count: UInt64)]) { keys.append(key); value = [("timeout", 3)] }
    mutating func string(_ key: String, _ value: inout String, optional: Bool) { keys.append(key); value = "s\(fresh())" }
    mutating func bool(_ key: String, _ value: inout Bool) { keys.append(key); value.toggle() }
    mutating func integer(_ key: String, _ value: inout Int, optional: Bool) { keys.append(key); value = Int(fresh()) }
    mutating func optionalNumber(_ key: String, _ value: inout Double?, decimals: Int) { keys.append(key); value = fresh() }
}

final class SummarySchemaTests: XCTestCase {
    /// Every stored member of `PhaseSummary` but those its container writes is set by `code`, and no
    /// key is listed twice. A new member that `code` does not list fails here.
    func testPhaseDescriptionCoversEveryMember() {
        let blank = PhaseSummary(name: "hold", startS: 0, endS: 1, startRate: 1, endRate: 1)
        var filled = blank
        var coder = FillingCoder()
        try! filled.code(&coder, llm: true)
        XCTAssertEqual(Set(coder.keys).count, coder.keys.count, "a key listed twice: \(coder.keys)")
        let containerMembers: Set<String> = ["name", "startS", "endS", "startRate", "endRate", "slo"]
        let before = Dictionary(uniqueKeysWithValues: Mirror(reflecting: blank).children.map { ($0.label!, "\($0.value)") })
        for child in Mirror(reflecting: filled).children where !containerMembers.contains(child.label!) {
            XCTAssertNotEqual("\(child.value)", before[child.label!], "PhaseSummary.\(child.label!) is not in PhaseSummary.code")
        }
    }

    /// The same for a second of the series: every member of `SecondSample` is in `SecondSample.code`.
    func testSecondDescriptionCoversEveryMember() {
        let blank = SecondSample(endS: 0, wallClockS: 0)
        var filled = blank
        var coder = FillingCoder()
        try! filled.code(&coder)
        XCTAssertEqual(Set(coder.keys).count, coder.keys.count, "a key listed twice: \(coder.keys)")
        let before = Dictionary(uniqueKeysWithValues: Mirror(reflecting: blank).children.map { ($0.label!, "\($0.value)") })
        for child in Mirror(reflecting: filled).children {
            XCTAssertNotEqual("\(child.value)", before[child.label!], "SecondSample.\(child.label!) is not in SecondSample.code")
        }
    }

    /// The run's own scalar members: each described once, each key once, and what the writer puts
    /// down the reader takes back.
    func testRunMembersRoundTrip() throws {
        var filled = RunSummary()
        var coder = FillingCoder()
        try filled.codeTarget(&coder)
        try filled.codeSchedule(&coder)
        try filled.codeDurations(&coder)
        try filled.codeGenerator(&coder)
        XCTAssertEqual(Set(coder.keys).count, coder.keys.count, "a key listed twice: \(coder.keys)")
        let text = SummaryFile.render(filled)
        let read = try RunSummary(summaryJSON: Array(text.utf8))
        XCTAssertEqual(SummaryFile.render(read), text)
        XCTAssertEqual([read.target, read.address, read.workload, read.arrival], [filled.target, filled.address, filled.workload, filled.arrival])
        XCTAssertEqual(read.seed, filled.seed)
        XCTAssertEqual(read.maxConnections, filled.maxConnections)
        XCTAssertEqual([read.plannedDurationS, read.ranS, read.elapsedS, read.loopCPUSeconds],
                       [filled.plannedDurationS, filled.ranS, filled.elapsedS, filled.loopCPUSeconds])
        XCTAssertEqual([read.interrupted, read.targetUnreachable], [true, true])
        XCTAssertEqual(read.hostLoad, filled.hostLoad)
        XCTAssertEqual(read.loopInvoluntarySwitches, filled.loopInvoluntarySwitches)
    }

    /// What the writer puts down, the reader takes back, member for member.
    func testWriterAndReaderAgree() throws {
        var filled = PhaseSummary(name: "hold", startS: 0, endS: 1, startRate: 1, endRate: 1)
        var coder = FillingCoder()
        try filled.code(&coder, llm: true)
        filled.errors = [("connect_refused", 4), ("timeout", 3)]
        var json = JSONWriter(pretty: false)
        json.beginObject()
        JSONReport.phaseFields(filled, into: &json, llm: true, detail: .full)
        json.endObject()
        let object = try XCTUnwrap(try JSONValue.parse(json.text.utf8).objectValue)
        let read = try PhaseSummary(decoding: JSONFields(object, path: ""), name: "hold", startS: 0, endS: 1, startRate: 1, endRate: 1)
        XCTAssertEqual("\(Mirror(reflecting: read).children.map { "\($0.label!)=\($0.value)" })",
                       "\(Mirror(reflecting: filled).children.map { "\($0.label!)=\($0.value)" })")
    }
}
