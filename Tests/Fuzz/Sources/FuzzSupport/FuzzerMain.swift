// Hands the process to libFuzzer from a Swift `main`.
import CFuzzer
import Glibc

/// SwiftPM links each executable with `main` aliased to the module's own entry point, so libFuzzer's
/// `main` is never linked in; every target's `@main` calls this instead, with its check of one input.
public func runFuzzer(_ check: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, check))
}
