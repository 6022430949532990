// libFuzzer target: llmsim's OpenAI body validation never traps, and what it accepts fits the context.
import FuzzSupport
@testable import LLMSim

/// Options bit 4: a chat request (else a completions request). No cuts: the body is decoded whole.
@main
enum Fuzz {
    static func main() { runFuzzer { data, size in fuzzOne(data, size) } }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let maxModelLen = 4096
    let result = input.payload.withUnsafeBytes { body in
        decodeCompletionRequest(isChat: input.flag(0), body: body, model: "m", maxModelLen: maxModelLen)
    }
    switch result {
    case .success(let ask):
        guard ask.promptTokens >= 0, ask.maxTokens >= 1, ask.promptTokens <= maxModelLen - ask.maxTokens,
              (0 ... ask.maxTokens).contains(ask.minTokens)
        else { fatalError("accepted a request that does not fit: \(ask)") }
    case .failure(let error):
        guard (400 ... 499).contains(error.status), !error.message.isEmpty else { fatalError("answer \(error)") }
    }
    return 0
}
