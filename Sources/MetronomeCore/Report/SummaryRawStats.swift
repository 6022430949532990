// The summary file's `raw_stats`: every counter and histogram of each stage and of the run, losslessly,
// so that `metronome merge` adds runs exactly instead of averaging their percentiles.

/// One summary a merge added, as the merged summary lists it.
public struct MergeSource: Sendable, Equatable {
    public var file: String
    /// `I/N`, or `0/1` for a whole run.
    public var shard: String
    public var seed: UInt64
    public var hostName: String
    public var startedAtUnixS: Double
    public var scheduled: UInt64
    public var succeeded: UInt64
}

extension RunSummary {
    /// `--start-at`: the zero asked for, and a warning when the run began noticeably later (its
    /// requests then sit later than its peers' in the merged schedule).
    public mutating func recordStart(startAtUnixS: Double?, lateS: Double) {
        self.startAtUnixS = startAtUnixS
        guard let startAtUnixS, lateS > StartTime.lateWarningS else { return }
        warnings.append("started \(Format.trimmed(lateS, decimals: 3)) s after --start-at \(Format.trimmed(startAtUnixS, decimals: 3)): "
                        + "setup ended late, so this run's schedule is shifted by that much against its shards' peers")
    }
}

/// The encoding of the section, named in the file so a reader knows what the strings are.
///
/// The histograms are written as recorded, in nanoseconds (lowest discernible 1,000 ns, highest 1 h,
/// 3 significant figures): V2 carries its own parameters, so HdrHistogram's libraries read them as
/// they read wrk2's microsecond ones. Converting to microseconds would move each count by up to a
/// slot, and every merge of merged files by as much again; as recorded, every slot comes back
/// exactly, however often a summary is read, merged and written. (`--hlog` writes microseconds.)
enum SummaryRawStats {
    static let histogramEncoding = "HdrHistogram V2 compressed (zlib), base64; values in nanoseconds as recorded (lowest 1000, highest 3600000000000, 3 significant figures)"

    static func encode(_ histogram: Histogram) -> String {
        Base64.encode(HdrV2.compress(HdrV2.encodeAsRecorded(histogram), zlib: .shared))
    }

    /// A nanosecond histogram of the standard parameters, slot for slot when the encoding has them;
    /// an encoding of other parameters (wrk2's microseconds, say) is converted (see `HdrV2`).
    static func decode(_ text: String) throws -> Histogram {
        let decoded = try HdrV2.decodeAsRecorded(base64: text)
        let histogram = Histogram()
        guard decoded.lowestDiscernibleValue == histogram.lowestDiscernibleValue, decoded.significantFigures == histogram.significantFigures,
              decoded.highestTrackableValue == histogram.highestTrackableValue else { return try HdrV2.nanoseconds(decoded) }
        for slot in decoded.slots { _ = histogram.record(histogram.valueFromIndex(slot.index), count: slot.count) }
        return histogram
    }

    /// The seven histograms of a stage, under the names the section uses.
    static func histograms(_ stats: StageStats) -> [(key: String, histogram: Histogram)] {
        [("latency", stats.latency), ("service_time", stats.serviceTime), ("send_lag", stats.sendLag), ("ttft", stats.ttft),
         ("ttft_sent", stats.ttftSent), ("itl", stats.itl), ("tpot", stats.tpot)]
    }

    /// `completionTokensSum` → `completion_tokens_sum`: the counters' keys are their names.
    static func key(_ counter: StageCounter) -> String {
        var key = ""
        for character in String(describing: counter) {
            if character.isUppercase { key += "_" + character.lowercased() } else { key.append(character) }
        }
        return key
    }

    static func write(_ summary: RunSummary, into json: inout JSONWriter) {
        guard let total = summary.rawTotal else { return }
        json.beginObject("raw_stats")
        json.string("histogram_encoding", histogramEncoding)
        json.beginObject("total")
        write(total, into: &json)
        json.endObject()
        json.beginArray("stages")
        for stage in summary.rawStages {
            json.beginObject()
            write(stage, into: &json)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    /// Every counter, zeros included (a reader can tell a zero from a counter it does not know), and
    /// the histograms that recorded anything.
    static func write(_ stats: StageStats, into json: inout JSONWriter) {
        json.beginObject("outcomes")
        for outcome in Outcome.allCases { json.int(outcome.key, stats.count(outcome)) }
        json.endObject()
        json.beginObject("counters")
        for counter in StageCounter.allCases { json.int(key(counter), stats[counter]) }
        json.endObject()
        json.beginObject("histograms")
        for (key, histogram) in histograms(stats) where histogram.totalCount > 0 {
            json.string(key, encode(histogram))
        }
        json.endObject()
    }

    /// Reads a stage's stats back; an unknown outcome, counter or histogram is an error (a newer
    /// writer's file: adding it up without knowing it would lose it silently).
    static func read(_ object: JSONFields) throws -> StageStats {
        let stats = StageStats()
        let outcomes = try object.object("outcomes")
        for key in outcomes.keys {
            guard let outcome = Outcome.allCases.first(where: { $0.key == key }) else { throw outcomes.fail(key, "not an outcome this version knows") }
            stats.outcomes.set(outcome.rawValue, try outcomes.unsigned(key))
        }
        let counters = try object.object("counters")
        for key in counters.keys {
            guard let counter = StageCounter.allCases.first(where: { Self.key($0) == key }) else { throw counters.fail(key, "not a counter this version knows") }
            stats.counters.set(counter.rawValue, try counters.unsigned(key))
        }
        let histograms = try object.object("histograms")
        let known = Self.histograms(stats)
        for key in histograms.keys {
            guard let target = known.first(where: { $0.key == key })?.histogram else { throw histograms.fail(key, "not a histogram this version knows") }
            do {
                target.merge(try decode(try histograms.string(key)))
            } catch let error as SummaryDecodeError {
                throw error
            } catch {
                throw histograms.fail(key, "\(error)")
            }
        }
        return stats
    }

    /// The section of a summary file, or nil when it has none (`--json` output, older files).
    static func read(_ root: JSONFields) throws -> (total: StageStats, stages: [StageStats])? {
        guard let section = try root.optionalObject("raw_stats") else { return nil }
        let encoding = try section.string("histogram_encoding")
        guard encoding == histogramEncoding else { throw section.fail("histogram_encoding", "'\(encoding)' is not '\(histogramEncoding)'") }
        return (try read(section.object("total")), try section.objects("stages").map(read))
    }
}
