// A growable byte buffer that responses are appended into and sockets drain from; memory is reused.
import Glibc

/// Bytes live in `[start, end)`. A slot keeps its buffers across requests, so after warm-up
/// appending allocates nothing. The struct holds a raw pointer: it lives in a slot and is mutated
/// in place, never copied (a copy would alias the same storage).
struct ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>?
    private(set) var capacity = 0
    var start = 0
    var end = 0

    var count: Int { end - start }
    var isEmpty: Bool { start == end }
    var readPointer: UnsafeMutablePointer<UInt8> { base! + start }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base.map { $0 + start }, count: count) }

    /// Makes room for `extra` bytes after `end`, first by sliding the live bytes to the front.
    mutating func reserve(_ extra: Int) {
        if end + extra <= capacity { return }
        if start > 0, let base {
            memmove(base, base + start, end - start)
            end -= start
            start = 0
            if end + extra <= capacity { return }
        }
        let newCapacity = max(capacity * 2, end + extra, 256)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        if let base {
            grown.update(from: base + start, count: end - start)
            base.deallocate()
        }
        end -= start
        start = 0
        base = grown
        capacity = newCapacity
    }

    /// Room already reserved after `end`, for a `read` straight into the buffer.
    var spare: Int { capacity - end }
    var writePointer: UnsafeMutablePointer<UInt8> { base! + end }

    mutating func commit(_ n: Int) { end += n }

    mutating func consume(_ n: Int) {
        start += n
        if start >= end {
            start = 0
            end = 0
        }
    }

    /// Forgets the last `n` bytes appended.
    mutating func dropLast(_ n: Int) {
        end -= min(n, count)
    }

    mutating func clear() {
        start = 0
        end = 0
    }

    mutating func release() {
        base?.deallocate()
        base = nil
        capacity = 0
        start = 0
        end = 0
    }

    mutating func append(_ pointer: UnsafeRawPointer, _ n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base! + end).update(from: pointer.assumingMemoryBound(to: UInt8.self), count: n)
        end += n
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if let address = bytes.baseAddress { append(address, bytes.count) }
    }

    mutating func append(_ text: StaticString) {
        append(text.utf8Start, text.utf8CodeUnitCount)
    }

    mutating func append(_ other: borrowing ByteBuffer) {
        if let base = other.base { append(base + other.start, other.count) }
    }

    mutating func append(byte: UInt8) {
        reserve(1)
        base![end] = byte
        end += 1
    }

    mutating func appendDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var v = value
            var i = scratch.count
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            } while v > 0
            append(scratch.baseAddress! + i, scratch.count - i)
        }
    }

    mutating func appendDecimal(_ value: Int) {
        if value < 0 {
            append(byte: 0x2D)
            appendDecimal(UInt64(value.magnitude))
        } else {
            appendDecimal(UInt64(value))
        }
    }

    /// Lowercase hex without leading zeros, as HTTP chunk sizes are written.
    mutating func appendHex(_ value: Int) {
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            var v = UInt64(value)
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = hexDigit(UInt8(truncatingIfNeeded: v & 0xF))
                v >>= 4
            } while v > 0
            append(raw.baseAddress! + i, raw.count - i)
        }
    }

    /// Exactly 16 lowercase hex digits.
    mutating func appendHex64(_ value: UInt64) {
        reserve(16)
        for i in 0..<16 {
            base![end + i] = hexDigit(UInt8(truncatingIfNeeded: (value >> UInt64(60 - 4 * i)) & 0xF))
        }
        end += 16
    }

    /// Appends `text` as the inside of a JSON string literal (quotes not included).
    mutating func appendJSONEscaped(_ text: UnsafeRawBufferPointer) {
        for byte in text {
            switch byte {
            case 0x22: append("\\\"")
            case 0x5C: append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0..<0x20:
                append("\\u00")
                append(byte: hexDigit(byte >> 4))
                append(byte: hexDigit(byte & 0xF))
            default: append(byte: byte)
            }
        }
    }

    mutating func appendJSONEscaped(_ text: String) {
        var copy = text
        copy.withUTF8 { appendJSONEscaped(UnsafeRawBufferPointer($0)) }
    }

    /// The live bytes as an array, for tests and one-off setup.
    var array: [UInt8] { Array(bytes) }
}

@inline(__always)
private func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble }
