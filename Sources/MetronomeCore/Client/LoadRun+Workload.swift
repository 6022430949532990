// Setup helpers of the prompt workloads: how many requests the plan schedules, and the --prompt-file check.

extension LoadRun {
    /// Counting stops here: a plan this long cycles any dataset anyway, and counting costs ~20 ns an arrival.
    static var plannedCountCap: Int { 10_000_000 }

    /// The arrivals the plan schedules (exactly: the same seeded schedule the engine will walk).
    static func plannedRequests(plan: RatePlan, process: ArrivalProcess, seed: UInt64) -> Int {
        var schedule = ArrivalSchedule(plan: plan, process: process, seed: seed)
        var count = 0
        while count < plannedCountCap, schedule.next() != nil { count += 1 }
        return count
    }

    /// A --prompt-file of several non-empty lines is still one prompt: say so, and point to --dataset.
    static func promptFileNote(path: String, text: String) -> String? {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).filter { !$0.allSatisfy(\.isWhitespace) }.count
        guard lines > 1 else { return nil }
        return "--prompt-file \(path) has \(lines) non-empty lines: the whole file is sent as ONE prompt; to send one prompt per line, use --dataset \(path)"
    }
}
