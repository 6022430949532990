// swift-tools-version:6.0
// Metronome: an open-loop, arrival-rate load generator. No package dependencies by design.
import PackageDescription

let package = Package(
    name: "Metronome",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "metronome", targets: ["metronome"]),
        .executable(name: "llmsim", targets: ["llmsim"]),
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "MetronomeCore", dependencies: ["CLinux"]),
        .executableTarget(name: "metronome", dependencies: ["MetronomeCore"]),
        .target(name: "LLMSim", dependencies: ["MetronomeCore", "CLinux"]),
        .executableTarget(name: "llmsim", dependencies: ["LLMSim"]),
        .testTarget(
            name: "MetronomeCoreTests",
            // llmsim is the ground truth of the end-to-end tests, started in-process on port 0.
            dependencies: ["MetronomeCore", "LLMSim"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "LLMSimTests", dependencies: ["LLMSim", "MetronomeCore"]),
    ]
)
