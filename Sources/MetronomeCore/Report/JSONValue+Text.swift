// A JSONValue written back as compact JSON text, through JSONWriter.

extension JSONValue {
    /// Compact JSON (no spaces). `sortedKeys` writes each object's members in key order (String's
    /// `<`), as a dataset's chat messages are sent, so the same messages make the same bytes;
    /// otherwise in their own order. Numbers are written as they were read.
    public func jsonText(sortedKeys: Bool = false) -> String {
        var writer = JSONWriter(pretty: false)
        write(nil, into: &writer, sortedKeys: sortedKeys)
        return writer.text
    }

    func write(_ name: String?, into writer: inout JSONWriter, sortedKeys: Bool) {
        switch self {
        case .null: writer.null(name)
        case .bool(let flag): writer.bool(name, flag)
        case .number(let number): writer.number(name, number)
        case .string(let text): writer.string(name, text)
        case .array(let items):
            writer.beginArray(name)
            for item in items { item.write(nil, into: &writer, sortedKeys: sortedKeys) }
            writer.endArray()
        case .object(let members):
            writer.beginObject(name)
            for member in sortedKeys ? members.sorted(by: { $0.key < $1.key }) : members {
                member.value.write(member.key, into: &writer, sortedKeys: sortedKeys)
            }
            writer.endObject()
        }
    }
}
