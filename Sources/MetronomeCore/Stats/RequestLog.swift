// `--request-log FILE`: one line per scheduled request (JSON lines or CSV), formatted into a fixed buffer with no allocation.
import Glibc

/// Written by the loop thread only (hence unchecked Sendable). Moments are ns since the plan's zero;
/// durations are ms with microsecond digits (the summary's `ttft_ms`…). A moment the request never
/// reached (not sent, no first token, not completed) is `null` in JSON lines and an empty CSV field.
public final class RequestLog: @unchecked Sendable {
    public enum Format: String, Sendable {
        case jsonl, csv

        /// The format a path's extension names; nil for any other.
        public init?(path: String) {
            let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
            if name.hasSuffix(".jsonl") && name.count > 6 { self = .jsonl }
            else if name.hasSuffix(".csv") && name.count > 4 { self = .csv }
            else { return nil }
        }

        public static let allowedExtensions = ".jsonl (JSON lines) or .csv"
    }

    /// The CSV columns: the first eight are the log's original ones (`tokens` is completion tokens).
    public static func csvHeader(includesGaps: Bool) -> String {
        "intended_ns,sent_ns,first_token_ns,completed_ns,status,outcome,bytes,tokens,id,stage,prompt_tokens,ttft_ms,ttft_sent_ms,tpot_ms"
            + (includesGaps ? ",itl_ms" : "") + ",error\n"
    }

    public let format: Format
    /// `--log-itl`: each line carries the request's inter-token gaps.
    public let includesGaps: Bool
    private let fd: Int32
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity = 1 << 20
    private var used = 0
    /// Each stage's name, escaped for the format, back to back; `stageOffsets[i] ..< stageOffsets[i+1]`.
    private let stageBytes: UnsafeMutablePointer<UInt8>
    private let stageOffsets: UnsafeMutablePointer<Int>
    private let stageCount: Int
    /// The server's error text of one request, masked in place before it is escaped into the line.
    private let scratch: UnsafeMutableRawBufferPointer
    private let mask: SecretMask
    /// Set when a write fails (disk full): counted and reported rather than silently lost.
    public private(set) var failedWrites = 0
    public private(set) var lines: UInt64 = 0

    /// `format` nil: from the path's extension (a path with neither throws a `UsageError`).
    /// `mask`: the run's credentials, hidden in every error text a server sent back.
    public init(path: String, format: Format? = nil, stageNames: [String] = [], mask: SecretMask = SecretMask(),
                includesGaps: Bool = false) throws {
        guard let format = format ?? Format(path: path) else {
            throw UsageError("--request-log", "must end in \(Format.allowedExtensions) (got '\(path)')")
        }
        self.format = format
        self.includesGaps = includesGaps
        self.mask = mask
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("--request-log: cannot create '\(path)'", errno: errno) }
        buffer = .allocate(capacity: capacity)
        scratch = .allocate(byteCount: MessageBuffer.capacity, alignment: 8)
        let names = (stageNames.isEmpty ? ["total"] : stageNames).map { RequestLog.quoted($0, format) }
        stageCount = names.count
        stageOffsets = .allocate(capacity: names.count + 1)
        stageBytes = .allocate(capacity: max(1, names.reduce(0) { $0 + $1.count }))
        var offset = 0
        for (index, name) in names.enumerated() {
            stageOffsets[index] = offset
            for byte in name { stageBytes[offset] = byte; offset += 1 }
        }
        stageOffsets[names.count] = offset
        if format == .csv { putText(RequestLog.csvHeader(includesGaps: includesGaps)) }
    }

    deinit {
        flush()
        closeDescriptor(fd)
        buffer.deallocate()
        scratch.deallocate()
        stageBytes.deallocate()
        stageOffsets.deallocate()
    }

    /// A request that ended on a connection: its moments from the slot, the rest from the scanner.
    @inline(__always)
    func append<Scanner: ResponseScanner>(startNs: UInt64, slot: ConnectionSlot, scanner: UnsafeMutablePointer<Scanner>,
                                          outcome: Outcome, status: Int, completedNs: UInt64) {
        var record = RequestRecord(id: slot.sequence, stage: Int(slot.stage), intendedNs: slot.intendedNs, outcome: outcome)
        record.sentNs = slot.sentNs
        record.firstTokenNs = scanner.pointee.requestFirstTokenNs
        record.completedNs = completedNs
        record.status = status
        record.bytes = slot.receivedBytes
        if outcome == .success {
            record.promptTokens = scanner.pointee.requestPromptTokens
            record.completionTokens = scanner.pointee.requestTokens
            record.tpotNs = scanner.pointee.requestTPOTNs
        }
        var errorCount = 0
        if outcome == .httpError || outcome == .streamError {
            errorCount = mask.maskInPlace(scratch.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                          count: scanner.pointee.requestErrorText(into: scratch))
        }
        append(record, startNs: startNs, gapsNs: scanner.pointee.requestGapsNs,
               errorText: UnsafeRawBufferPointer(start: scratch.baseAddress, count: errorCount))
    }

    /// A request that never got a connection (dropped, a connect failure, still queued at the end).
    @inline(__always)
    func append(startNs: UInt64, request: QueuedRequest, outcome: Outcome) {
        append(RequestRecord(id: request.sequence, stage: Int(request.stage), intendedNs: request.intendedNs, outcome: outcome),
               startNs: startNs)
    }

    /// `startNs` converts absolute monotonic times; a moment of 0 did not happen.
    func append(_ record: RequestRecord, startNs: UInt64, gapsNs: UnsafeBufferPointer<UInt64> = UnsafeBufferPointer(start: nil, count: 0),
                errorText: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        let stage = min(max(record.stage, 0), stageCount - 1)
        // Room for every fixed field and the longest escaped error text; the gaps check their own.
        if capacity - used < 2048 + stageOffsets[stage + 1] - stageOffsets[stage] { flush() }
        let firstToken = record.firstTokenNs
        let ttft = firstToken != 0 ? firstToken &- record.intendedNs : nil
        let ttftSent = firstToken != 0 && record.sentNs != 0 ? firstToken &- record.sentNs : nil
        let status = record.status > 0 ? UInt64(record.status) : nil
        let completion = record.promptTokens != nil || record.completionTokens > 0 ? record.completionTokens : nil
        let tpot = record.tpotNs > 0 ? record.tpotNs : nil
        if format == .jsonl {
            putText("{\"id\":"); putNumber(record.id)
            putText(",\"stage\":"); putStage(stage)
            putText(",\"intended_ns\":"); putMoment(record.intendedNs, startNs)
            putText(",\"sent_ns\":"); putMoment(record.sentNs, startNs)
            putText(",\"first_token_ns\":"); putMoment(firstToken, startNs)
            putText(",\"completed_ns\":"); putMoment(record.completedNs, startNs)
            putText(",\"status\":"); putOptional(status)
            putText(",\"outcome\":\""); putText(record.outcome.key)
            putText("\",\"bytes\":"); putNumber(UInt64(max(record.bytes, 0)))
            putText(",\"prompt_tokens\":"); putOptional(record.promptTokens)
            putText(",\"completion_tokens\":"); putOptional(completion)
            putText(",\"ttft_ms\":"); putMillis(ttft)
            putText(",\"ttft_sent_ms\":"); putMillis(ttftSent)
            putText(",\"tpot_ms\":"); putMillis(tpot)
            if includesGaps { putText(",\"itl_ms\":["); putGaps(gapsNs); putByte(UInt8(ascii: "]")) }
            putText(",\"error\":")
            if errorText.isEmpty { putText("null") } else { putEscaped(errorText) }
            putText("}\n")
        } else {
            putMoment(record.intendedNs, startNs); putComma()
            putMoment(record.sentNs, startNs); putComma()
            putMoment(firstToken, startNs); putComma()
            putMoment(record.completedNs, startNs); putComma()
            putOptional(status); putComma()
            putText(record.outcome.key); putComma()
            putNumber(UInt64(max(record.bytes, 0))); putComma()
            putOptional(completion); putComma()
            putNumber(record.id); putComma()
            putStage(stage); putComma()
            putOptional(record.promptTokens); putComma()
            putMillis(ttft); putComma()
            putMillis(ttftSent); putComma()
            putMillis(tpot); putComma()
            if includesGaps { putGaps(gapsNs); putComma() }
            if !errorText.isEmpty { putEscaped(errorText) }
            putByte(UInt8(ascii: "\n"))
        }
        lines &+= 1
    }

    public func flush() {
        var offset = 0
        while offset < used {
            guard case .bytes(let n) = writeSome(fd, buffer + offset, used - offset) else {
                failedWrites += 1
                break
            }
            offset += n
        }
        used = 0
    }

    // MARK: Fields

    @inline(__always) private func putByte(_ byte: UInt8) {
        buffer[used] = byte
        used += 1
    }

    @inline(__always) private func putComma() { putByte(UInt8(ascii: ",")) }

    /// A literal or an `Outcome.key`: immortal strings, read in place without allocating.
    @inline(__always) private func putText(_ text: String) {
        var text = text
        text.withUTF8 { for byte in $0 { putByte(byte) } }
    }

    private func putStage(_ stage: Int) {
        for offset in stageOffsets[stage] ..< stageOffsets[stage + 1] { putByte(stageBytes[offset]) }
    }

    /// `null` (JSON) or nothing (CSV) for a moment that did not happen.
    @inline(__always) private func putMoment(_ ns: UInt64, _ startNs: UInt64) {
        putOptional(ns != 0 ? ns &- min(ns, startNs) : nil)
    }

    @inline(__always) private func putOptional(_ value: UInt64?) {
        if let value { putNumber(value) } else if format == .jsonl { putText("null") }
    }

    /// Nanoseconds as milliseconds with three decimals (`12.345`), from integers (no float printing).
    @inline(__always) private func putMillis(_ ns: UInt64?) {
        guard let ns else { return putOptional(nil) }
        let micros = (ns &+ 500) / 1000
        putNumber(micros / 1000)
        putByte(UInt8(ascii: "."))
        let fraction = micros % 1000
        putByte(UInt8(truncatingIfNeeded: fraction / 100) &+ UInt8(ascii: "0"))
        putByte(UInt8(truncatingIfNeeded: fraction / 10 % 10) &+ UInt8(ascii: "0"))
        putByte(UInt8(truncatingIfNeeded: fraction % 10) &+ UInt8(ascii: "0"))
    }

    /// `,`-separated in JSON's array, `;`-separated in one CSV field.
    private func putGaps(_ gapsNs: UnsafeBufferPointer<UInt64>) {
        for (index, gap) in gapsNs.enumerated() {
            if capacity - used < 32 { flush() }
            if index > 0 { putByte(format == .jsonl ? UInt8(ascii: ",") : UInt8(ascii: ";")) }
            putMillis(gap)
        }
    }

    @inline(__always) private func putNumber(_ value: UInt64) {
        var digits = 1
        var probe = value
        while probe >= 10 { probe /= 10; digits += 1 }
        var rest = value
        for position in stride(from: used + digits - 1, through: used, by: -1) {
            buffer[position] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
            rest /= 10
        }
        used += digits
    }

    /// A server's text as a JSON string, or a quoted CSV field on one line: surrounding whitespace
    /// dropped, bytes that are not UTF-8 (a sequence cut by the 200-byte clip too) shown as U+FFFD.
    private func putEscaped(_ text: UnsafeRawBufferPointer) {
        var start = 0, end = text.count
        while start < end && RequestLog.isBlank(text[start]) { start += 1 }
        while end > start && RequestLog.isBlank(text[end - 1]) { end -= 1 }
        putByte(UInt8(ascii: "\""))
        var index = start
        while index < end {
            let byte = text[index]
            if byte >= 0x80 {
                let length = RequestLog.utf8Length(text, at: index, end: end)
                if length == 0 {
                    putText("\u{FFFD}")
                    index += 1
                } else {
                    for offset in 0..<length { putByte(text[index + offset]) }
                    index += length
                }
                continue
            }
            index += 1
            if format == .csv {
                if byte == UInt8(ascii: "\"") { putByte(byte) }
                putByte(byte < 0x20 ? UInt8(ascii: " ") : byte)
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                putByte(UInt8(ascii: "\\")); putByte(byte)
            } else if byte < 0x20 {
                putText("\\u00")
                putByte(RequestLog.hex(byte >> 4)); putByte(RequestLog.hex(byte & 0xF))
            } else {
                putByte(byte)
            }
        }
        putByte(UInt8(ascii: "\""))
    }

    // MARK: Setup-time and pure helpers

    /// A stage name as the format writes a text value: a JSON string, or CSV (quoted when it must be).
    static func quoted(_ text: String, _ format: Format) -> [UInt8] {
        switch format {
        case .jsonl:
            return Array(JSONWriter.quote(text).utf8)
        case .csv:
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return Array(text.utf8) }
            return Array(("\"" + text.replacingAll("\"", with: "\"\"") + "\"").utf8)
        }
    }

    @inline(__always) static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    @inline(__always) static func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? nibble + 0x30 : nibble + 0x57 }

    /// The length of the well-formed UTF-8 sequence at `index` (RFC 3629: no overlongs, surrogates
    /// or values past U+10FFFF), or 0 when the bytes there are not one.
    static func utf8Length(_ text: UnsafeRawBufferPointer, at index: Int, end: Int) -> Int {
        let lead = text[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard index + length <= end else { return 0 }
        guard text[index + 1] >= low && text[index + 1] <= high else { return 0 }
        for offset in 2..<length where text[index + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }
}

/// One request as the log writes it; moments are absolute monotonic ns, 0 when they did not happen.
struct RequestRecord {
    var id: UInt64
    var stage: Int
    var intendedNs: UInt64
    var outcome: Outcome
    var sentNs: UInt64 = 0
    var firstTokenNs: UInt64 = 0
    var completedNs: UInt64 = 0
    var status = 0
    var bytes = 0
    var promptTokens: UInt64? = nil
    var completionTokens: UInt64 = 0
    var tpotNs: UInt64 = 0
}
