// zlib streams for HdrHistogram's compressed encoding: libz.so.1 loaded at run time, or stored blocks.
import CLinux
import Glibc

/// What a zlib stream could not be made or read from.
public struct ZlibError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// zlib (RFC 1950) compression through `libz.so.1`, found with dlopen when first used, so that the
/// build needs neither zlib's headers nor `-lz`. Without the library it still writes streams every
/// zlib reads (deflate's STORED blocks: no compression, 5 bytes of framing per 64 KiB), and reads
/// such streams back; a stream with compressed blocks then fails with an error naming the library.
struct Zlib: @unchecked Sendable {  // immutable; C function pointers are not marked Sendable
    private let compress2: clinux_zlib_compress2?
    private let compressBound: clinux_zlib_compressBound?
    private let uncompress: clinux_zlib_uncompress?

    /// The process's zlib: libz.so.1 when it loads, the stored-block fallback when not.
    static let shared = Zlib(library: "libz.so.1")
    /// No library: what a machine without zlib1g gets (the tests use it to check the fallback).
    static let storedOnly = Zlib(library: nil)

    /// `library`: a name for dlopen, or nil for the stored-block fallback. The handle is never closed:
    /// the functions stay in use for the process's life.
    init(library: String?) {
        guard let library, let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL),
              let compress2 = dlsym(handle, "compress2"), let compressBound = dlsym(handle, "compressBound"),
              let uncompress = dlsym(handle, "uncompress") else {
            self.compress2 = nil
            self.compressBound = nil
            self.uncompress = nil
            return
        }
        self.compress2 = unsafeBitCast(compress2, to: clinux_zlib_compress2.self)
        self.compressBound = unsafeBitCast(compressBound, to: clinux_zlib_compressBound.self)
        self.uncompress = unsafeBitCast(uncompress, to: clinux_zlib_uncompress.self)
    }

    /// True when libz is loaded (deflate compresses); false on the stored-block fallback.
    var isLoaded: Bool { compress2 != nil }

    private static let okay: Int32 = 0
    private static let bufferError: Int32 = -5
    static let defaultLevel: Int32 = -1

    /// A zlib stream of `bytes`: deflated at `level` (zlib's default, 6, unless given), or in stored
    /// blocks without libz.
    func compress(_ bytes: [UInt8], level: Int32 = Zlib.defaultLevel) throws -> [UInt8] {
        guard let compress2, let compressBound else { return Self.stored(bytes) }
        var capacity = compressBound(UInt(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &capacity, input.baseAddress, UInt(input.count), level)
            }
        }
        guard status == Self.okay else { throw ZlibError(description: "zlib compress2 failed (status \(status))") }
        output.removeSubrange(Int(capacity)...)
        return output
    }

    /// The bytes a zlib stream holds. `limit` bounds what the stream may expand to, so that a
    /// corrupt or hostile stream cannot take the memory.
    func decompress(_ stream: [UInt8], limit: Int) throws -> [UInt8] {
        guard let uncompress else { return try Self.unstored(stream, limit: limit) }
        // zlib's one-call API needs the output size up front, which the HdrHistogram framing does not
        // carry: grow until it fits.
        var capacity = max(64, min(limit, stream.count * 4))
        while true {
            var produced = UInt(capacity)
            var output = [UInt8](repeating: 0, count: capacity)
            let status = output.withUnsafeMutableBufferPointer { out in
                stream.withUnsafeBufferPointer { input in
                    uncompress(out.baseAddress, &produced, input.baseAddress, UInt(input.count))
                }
            }
            if status == Self.okay {
                output.removeSubrange(Int(produced)...)
                return output
            }
            // Z_BUF_ERROR means the output was too small, or the input ended early (truncated).
            if status == Self.bufferError && capacity < limit {
                capacity = min(limit, capacity * 2)
                continue
            }
            let reason = status == Self.bufferError
                ? "truncated, or expands past \(limit) bytes"
                : status == -3 ? "corrupt data" : "status \(status)"
            throw ZlibError(description: "zlib stream cannot be inflated: \(reason)")
        }
    }

    // MARK: Stored blocks (no libz)

    /// Largest payload of one stored block (LEN is 16 bits).
    private static let storedBlockLimit = 65_535

    /// A zlib stream of stored blocks: header 78 01 (deflate, 32 KiB window, no dictionary, "fastest"),
    /// blocks of at most 65,535 bytes each behind their 5-byte header, and the Adler-32 of the data.
    static func stored(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [0x78, 0x01]
        output.reserveCapacity(bytes.count + 6 + 5 * (bytes.count / storedBlockLimit + 1))
        var start = 0
        repeat {
            let end = min(start + storedBlockLimit, bytes.count)
            let length = UInt16(end - start)
            // One byte holds BFINAL (bit 0) and BTYPE 00 (bits 1–2); the rest pads to the byte boundary.
            output.append(end == bytes.count ? 0x01 : 0x00)
            output.append(UInt8(length & 0xFF))
            output.append(UInt8(length >> 8))
            output.append(UInt8(~length & 0xFF))
            output.append(UInt8(~length >> 8))
            output.append(contentsOf: bytes[start..<end])
            start = end
        } while start < bytes.count
        let check = adler32(bytes)
        output.append(contentsOf: [UInt8(check >> 24), UInt8((check >> 16) & 0xFF), UInt8((check >> 8) & 0xFF), UInt8(check & 0xFF)])
        return output
    }

    /// Reads a zlib stream made only of stored blocks (what `stored` writes, and what zlib writes at
    /// level 0). Compressed blocks need an inflater, which is libz's job.
    static func unstored(_ stream: [UInt8], limit: Int) throws -> [UInt8] {
        guard stream.count >= 2 else { throw ZlibError(description: "zlib stream truncated (no header)") }
        let cmf = stream[0], flg = stream[1]
        guard cmf & 0x0F == 8, (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else {
            throw ZlibError(description: "not a zlib stream (header \(hex(cmf)) \(hex(flg)))")
        }
        guard flg & 0x20 == 0 else { throw ZlibError(description: "zlib stream needs a preset dictionary") }
        var output: [UInt8] = []
        var position = 2
        while true {
            guard position < stream.count else { throw ZlibError(description: "zlib stream truncated (block header)") }
            let header = stream[position]
            // Every block of a stored-only stream starts on a byte: the previous one was stored too.
            let blockType = (header >> 1) & 0x03
            guard blockType == 0 else {
                throw ZlibError(description: "zlib stream has compressed blocks; reading them needs libz.so.1 "
                                    + "(Debian/Ubuntu package zlib1g), which could not be loaded")
            }
            guard position + 5 <= stream.count else { throw ZlibError(description: "zlib stream truncated (stored block header)") }
            let length = Int(stream[position + 1]) | Int(stream[position + 2]) << 8
            let inverse = Int(stream[position + 3]) | Int(stream[position + 4]) << 8
            guard length == ~inverse & 0xFFFF else { throw ZlibError(description: "zlib stored block length check failed") }
            position += 5
            guard position + length <= stream.count else { throw ZlibError(description: "zlib stream truncated (stored block data)") }
            guard output.count + length <= limit else { throw ZlibError(description: "zlib stream expands past \(limit) bytes") }
            output.append(contentsOf: stream[position..<position + length])
            position += length
            if header & 0x01 == 1 { break }
        }
        guard position + 4 <= stream.count else { throw ZlibError(description: "zlib stream truncated (Adler-32)") }
        let stated = UInt32(stream[position]) << 24 | UInt32(stream[position + 1]) << 16
            | UInt32(stream[position + 2]) << 8 | UInt32(stream[position + 3])
        guard stated == adler32(output) else { throw ZlibError(description: "zlib stream Adler-32 mismatch") }
        return output
    }

    /// RFC 1950's checksum: two sums mod 65521, reduced every 5,552 bytes (the most that cannot
    /// overflow 32 bits).
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let end = min(index + 5_552, bytes.count)
            while index < end {
                a &+= UInt32(bytes[index])
                b &+= a
                index += 1
            }
            a %= 65_521
            b %= 65_521
        }
        return b << 16 | a
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
