// llmsim: parse flags, bind, print the address, serve until SIGINT/SIGTERM.
import Glibc
import LLMSim
import MetronomeCore

let config: SimConfig
do {
    config = try SimConfig.parse(arguments: Array(CommandLine.arguments.dropFirst()))
} catch let exit as SimConfigExit {
    writeStandardOutput(exit.text + "\n")
    Glibc.exit(0)
} catch {
    // UsageError, worded as metronome's; exit 64 (EX_USAGE) as metronome does.
    writeStandardError("error: \(error)\n")
    Glibc.exit(64)
}

do {
    let server = try SimServer(config: config)
    server.stopOnTerminationSignals()
    let host = config.host.contains(":") ? "[\(config.host)]" : config.host
    writeStandardOutput("llmsim listening on \(config.scheme)://\(host):\(server.port)\n")
    server.run()
    writeStandardOutput("llmsim stopped: \(server.stats)\n")
} catch let error as TLSSetupError {
    // An unusable --tls-cert/--tls-key (or no libssl): bad usage, as a bad flag value is.
    writeStandardError("error: \(error)\n")
    Glibc.exit(64)
} catch {
    writeStandardError("error: \(error)\n")
    Glibc.exit(1)
}
