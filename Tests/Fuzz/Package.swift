// swift-tools-version:6.0
// libFuzzer targets for Metronome's parsers (`make fuzz`). A package of its own so that the root
// package's `swift build` and `swift test` never see -sanitize=fuzzer; Sources/CLinux,
// MetronomeCore and LLMSim are symbolic links to the root package's sources, compiled here with
// -enable-testing so the targets can reach internal types (`@testable import`). Each target's
// `@main` hands the process to libFuzzer (FuzzSupport/FuzzerMain.swift). Build flags: run.sh.
import PackageDescription

let package = Package(
    name: "MetronomeFuzz",
    platforms: [.macOS(.v15)],
    targets: [
        .target(name: "CLinux"),
        .target(name: "MetronomeCore", dependencies: ["CLinux"]),
        .target(name: "LLMSim", dependencies: ["MetronomeCore", "CLinux"]),
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer", "MetronomeCore"]),
        .executableTarget(name: "FuzzResponseParser", dependencies: ["FuzzSupport", "MetronomeCore"]),
        .executableTarget(name: "FuzzChunkedDecoder", dependencies: ["FuzzSupport", "MetronomeCore"]),
        .executableTarget(name: "FuzzSSEScanner", dependencies: ["FuzzSupport", "MetronomeCore"]),
        .executableTarget(name: "FuzzCompletionJSON", dependencies: ["FuzzSupport", "MetronomeCore"]),
        .executableTarget(name: "FuzzRequestParser", dependencies: ["FuzzSupport", "LLMSim"]),
        .executableTarget(name: "FuzzOpenAIRequest", dependencies: ["FuzzSupport", "LLMSim"]),
    ]
)
