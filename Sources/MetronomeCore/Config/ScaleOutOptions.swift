// Checks of --shard, --start-at and --processes against the rest of a run's options.

extension RunOptions {
    static func checkScaleOut(_ options: RunOptions) throws(UsageError) {
        if options.concurrency != nil {
            if !options.shard.isWhole {
                throw UsageError("--shard", "splits an arrival schedule; a closed loop (--concurrency) has none: give each machine its own --concurrency instead")
            }
            if options.processes != nil {
                throw UsageError("--processes", "splits an arrival schedule; a closed loop (--concurrency) has none")
            }
        }
        if let processes = options.processes, processes > 1 {
            if !options.shard.isWhole {
                throw UsageError("--processes", "starts its own shards 0/N … N-1/N; it cannot be combined with --shard")
            }
            if options.web != nil {
                throw UsageError("--processes", "cannot serve one --web view from several processes (each shard would take the port); watch one shard's run with --shard I/N --web instead")
            }
            if options.requestLogPath != nil {
                throw UsageError("--processes", "cannot share one --request-log between processes; run the shards yourself (--shard I/N) with one log each")
            }
        }
    }
}
