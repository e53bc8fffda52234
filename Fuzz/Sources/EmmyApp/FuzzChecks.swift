import Foundation

/// The fuzz targets' checks over EmmyApp's input readers. They live in this module (the
/// executables only call them) because libFuzzer's coverage comes from library code, and
/// because they reach internal types as the server does. Each returns normally or stops the
/// process with a message, which libFuzzer reports as a crash and saves the input of.
public enum FuzzChecks {
    /// CSV bytes: the parser neither crashes nor hangs, and where an upload's chunks happen
    /// to split the bytes does not change what it parses.
    public static func csv(_ bytes: UnsafeRawBufferPointer) {
        let bytes = Array(bytes)
        var whole = CSVParser(maxFieldBytes: 256)
        let expected = whole.feed(bytes) + whole.finish()

        // Chunk sizes from the input's own bytes: deterministic, and varied as the input varies.
        var chunked = CSVParser(maxFieldBytes: 256)
        var table = CSVTable(maxFieldBytes: 256)
        var got: [Result<CSVParser.Record, CSVParser.Problem>] = []
        var offset = 0, step = 0
        while offset < bytes.count {
            let size = 1 + Int(bytes[step % bytes.count] % 17)
            let chunk = bytes[offset..<min(bytes.count, offset + size)]
            got += chunked.feed(chunk)
            _ = table.feed(chunk)
            offset += size
            step += 1
        }
        got += chunked.finish()
        _ = table.finish()
        if got != expected { fatalError("chunking changed the parse:\nwhole:   \(expected)\nchunked: \(got)") }
    }

    /// A `POST /messages` body. The fast reader promises to accept only what `JSONDecoder`
    /// accepts, with the same result, and to leave everything else to the decoder.
    public static func messages(_ bytes: UnsafeRawBufferPointer) {
        let fast = MessagesRequestParser.parse(bytes)
        let slow = try? JSONDecoder().decode(MessagesRequest.self, from: Data(bytes))
        guard let fast else { return }
        guard let slow else { fatalError("the fast reader accepted a body JSONDecoder refuses") }
        let (a, b) = (summary(fast), summary(slow))
        if a != b { fatalError("the readers disagree:\nfast: \(a)\nslow: \(b)") }
    }

    private static func summary(_ request: MessagesRequest) -> String {
        let contacts = request.contacts.map { contact in
            contact.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                + " unusable=\(contact.unusable.sorted())"
        }
        return "message=\(request.message) region=\(String(describing: request.defaultRegion)) "
            + "phone=\(String(describing: request.phoneField)) contacts=\(contacts)"
    }

    /// A message template: parsing and rendering neither crash nor hang, a rendered body is
    /// never longer than Twilio accepts, values are copied as text (never expanded again),
    /// and every field is required.
    public static func template(_ bytes: UnsafeRawBufferPointer) {
        guard let template = try? MessageTemplate(String(decoding: bytes, as: UTF8.self)) else { return }
        var values: [String: String] = [:]
        for (index, field) in template.fields.enumerated() {
            values[field] = index % 2 == 0 ? "{\(field)}" : String(repeating: "é", count: 1 + index * 97 % 700)
        }
        if let body = try? template.render(values) {
            if body.count > MessageTemplate.maximumLength { fatalError("rendered \(body.count) characters") }
            if let first = template.fields.first, !body.contains("{\(first)}") { fatalError("the value of `\(first)` was not copied as text") }
        }
        if let first = template.fields.first {
            values[first] = nil
            if (try? template.render(values)) != nil { fatalError("rendered without the field `\(first)`") }
        }
    }
}
