// Writes whole strings to stdout and stderr with write(2): no shared FILE* state between threads.
import Glibc

public func writeStandardError(_ text: String) { writeAll(2, text) }
public func writeStandardOutput(_ text: String) { writeAll(1, text) }

func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            guard case .bytes(let n) = writeSome(fd, bytes.baseAddress! + offset, bytes.count - offset) else { return }
            offset += n
        }
    }
}

/// The text of a NUL-terminated C character buffer (host names, addresses) filled by a libc call.
func stringFromCBuffer(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
