// `metronome sweep` and `metronome find-max` options: their own table, then every run option.

public struct CapacityOptions: Sendable {
    public enum Command: String, Sendable { case sweep, findMax = "find-max" }

    public var command: Command
    /// Everything a step shares with `metronome run` (target, workload, connections, SLO, output).
    public var run = RunOptions()
    /// sweep: the steps' rates, ascending.
    public var rates: [Double] = []
    public var stepDurationNs: UInt64 = 60_000_000_000
    /// nil: 10 % of the step duration (no ramp before the first step).
    public var stepRampNs: UInt64?
    public var cooldownNs: UInt64 = 30_000_000_000
    public var minRate = 1.0
    public var maxRate = 10_000.0
    /// A fraction: 0.05 for 5 %.
    public var precision = 0.05

    public init(command: Command) { self.command = command }

    public var effectiveStepRampNs: UInt64 { stepRampNs ?? stepDurationNs / 10 }

    var commandName: String { "metronome \(command.rawValue)" }
}

public enum CapacityOptionTable {
    /// Run options that shape a run's plan: a step builds its own, so they are refused by name.
    static let refused: [String: String] = [
        "rate": "the steps' rates come from --rates (sweep) or --min-rate/--max-rate (find-max)",
        "ramp": "each step ramps for --step-ramp",
        "duration": "each step holds for --step-duration",
        "stage": "each step is a ramp and a hold (--step-ramp, --step-duration)",
        "start-rate": "each step ramps from the previous step's rate",
        "drain": "after each step, --cooldown bounds the wait for its requests",
        "slo-scope": "each step is judged on its hold",
        // A closed loop has no rate to set: the server's speed sets it, so there is nothing to search.
        "concurrency": "sweep and find-max search over open-loop arrival rates; a closed loop's rate is set by the server (run it with metronome run --concurrency)",
        "spawn-rate": "it belongs to --concurrency, which is an option of metronome run only",
        "think-time": "it belongs to --concurrency, which is an option of metronome run only",
        // A step's pass or fail needs the whole load's percentiles at once; shards would have to meet after every step.
        "shard": "sweep and find-max judge each step on the whole load; shard a run (metronome run --shard) instead",
        "start-at": "it belongs to --shard, which is an option of metronome run only",
        "processes": "sweep and find-max judge each step on the whole load, in one process; use metronome run --processes for one rate",
        "hlog": "a step writes no report files; run the rate of interest with metronome run --hlog",
    ]

    static let stepSpecs: [OptionSpec<CapacityOptions>] = [
        OptionSpec(name: "step-duration", value: "D", defaultText: "60s", help: "How long each step holds its rate; the step is judged on this hold only.", group: "Steps") { options, text throws(UsageError) in
            options.stepDurationNs = try OptionTable.duration(text, "--step-duration", allowZero: false)
        },
        OptionSpec(name: "step-ramp", value: "D", defaultText: "10% of --step-duration", help: "Before each hold, ramp linearly from the nearest lower rate already run (none before the first step); 0s jumps.", group: "Steps") { options, text throws(UsageError) in
            options.stepRampNs = try OptionTable.duration(text, "--step-ramp", allowZero: true)
        },
        OptionSpec(name: "cooldown", value: "D", defaultText: "30s", help: "After each step, no arrivals until its requests have finished, at most D; those still running then count as unfinished in that step.", group: "Steps") { options, text throws(UsageError) in
            options.cooldownNs = try OptionTable.duration(text, "--cooldown", allowZero: true)
        },
    ]

    public static let sweep: [OptionSpec<CapacityOptions>] = [
        OptionSpec(name: "rates", value: "LIST", defaultText: "", help: "The steps' rates in requests/s, ascending: `5,10,20,40`, `2..40x8` (8 geometric steps, both ends included) or `2..40+4` (2, 6, … up to 40). At most 100 steps.", group: "Steps") { options, text throws(UsageError) in
            options.rates = try RateSteps.parse(text)
        },
    ] + stepSpecs + passedThrough

    public static let findMax: [OptionSpec<CapacityOptions>] = [
        OptionSpec(name: "min-rate", value: "R", defaultText: "1", help: "The first step's rate; the search doubles from it.", group: "Steps") { options, text throws(UsageError) in
            options.minRate = try OptionTable.rate(text, "--min-rate", allowZero: false)
        },
        OptionSpec(name: "max-rate", value: "R", defaultText: "10000", help: "The highest rate tried: doubling stops there.", group: "Steps") { options, text throws(UsageError) in
            options.maxRate = try OptionTable.rate(text, "--max-rate", allowZero: false)
        },
        OptionSpec(name: "precision", value: "P%", defaultText: "5%", help: "Bisect until (lowest fail − highest pass) / highest pass is below P.", group: "Steps") { options, text throws(UsageError) in
            let number = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let value = Units.parseDecimal(number), value > 0, value < 100 else {
                throw UsageError("--precision", "must be a percentage above 0 and below 100, such as 5% (got '\(text)')")
            }
            options.precision = value / 100
        },
    ] + stepSpecs + passedThrough

    /// Every run option, applied to each step's `RunOptions`; the plan's own are refused with the reason.
    static var passedThrough: [OptionSpec<CapacityOptions>] {
        OptionTable.run.map { spec in
            if let reason = refused[spec.name] {
                return OptionSpec(name: spec.name, value: spec.value, defaultText: "", help: "", group: "Refused") { options, _ throws(UsageError) in
                    throw UsageError(spec.flag, "is not an option of \(options.commandName): \(reason)")
                }
            }
            return OptionSpec(name: spec.name, value: spec.value, defaultText: spec.defaultText, help: spec.help, group: spec.group) { options, text throws(UsageError) in
                try spec.apply(&options.run, text)
            }
        }
    }

    public static func table(_ command: CapacityOptions.Command) -> [OptionSpec<CapacityOptions>] {
        command == .sweep ? sweep : findMax
    }

    /// Parses the arguments after `sweep` / `find-max`. A `--config FILE` gives run options (its
    /// rate-plan keys are skipped: the steps make the plan); options on the command line win.
    public static func parse(_ arguments: [String], command: CapacityOptions.Command) throws(UsageError) -> CapacityOptions {
        let table = table(command)
        let (commandLine, fileArguments) = try ConfigFile.separate(arguments)
        let given = Set(OptionParser.names(in: commandLine, table: table))
        var kept: [String] = []
        var position = 0
        while position < fileArguments.count {
            let argument = fileArguments[position]
            let name = argument.hasPrefix("--") ? String(argument.dropFirst(2)) : "url"
            let width = argument.hasPrefix("--") && OptionTable.run.first { $0.name == name }?.value != nil ? 2 : 1
            let overridden = given.contains(name) || (ConfigFile.negations[name].map { given.contains($0) } ?? false)
            if !overridden && refused[name] == nil { kept += fileArguments[position..<(position + width)] }
            position += width
        }
        var sawURL = false
        var options = try OptionParser.parse(kept + commandLine, table: table, into: CapacityOptions(command: command),
                                             command: "metronome \(command.rawValue)") { options, argument throws(UsageError) in
            guard !sawURL else { throw UsageError("", "more than one URL given ('\(argument)'); options start with --") }
            options.run.url = argument
            sawURL = true
        }
        try validate(&options)
        return options
    }


    static func validate(_ options: inout CapacityOptions) throws(UsageError) {
        switch options.command {
        case .sweep:
            guard !options.rates.isEmpty else { throw UsageError("--rates", "is required: the steps' rates, e.g. --rates 5,10,20,40 or --rates 2..40x8") }
        case .findMax:
            guard !options.run.slo.isEmpty else { throw UsageError("--slo", "is required: find-max looks for the highest rate that passes it, e.g. --slo 'p95<=5s,errors<=0.1%'") }
            guard options.maxRate >= options.minRate else {
                throw UsageError("--max-rate", "must be at least --min-rate (\(Format.rate(options.maxRate)) < \(Format.rate(options.minRate)))")
            }
        }
        // The hold judges, the ramp only leads into it.
        guard options.effectiveStepRampNs <= 100 * options.stepDurationNs else {
            throw UsageError("--step-ramp", "must be at most 100 × --step-duration")
        }
    }
}
