/// A streaming CSV parser (RFC 4180 plus what spreadsheets export): feed it byte chunks as
/// they arrive and it hands back complete records, so an upload is never held whole.
///
/// Handles a UTF-8 byte-order mark, CRLF or LF line ends, quoted fields with commas, doubled
/// quotes and embedded newlines. A record that is not valid UTF-8 or has an over-long field
/// becomes a per-record problem; parsing continues with the next record.
public struct CSVParser: Sendable {
    /// One parsed record, numbered from 1 as a spreadsheet numbers rows (the header is row 1).
    public struct Record: Sendable, Hashable {
        public var row: Int
        public var fields: [String]
    }

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notUTF8(row: Int)
        case fieldTooLong(row: Int, limit: Int)

        public var row: Int {
            switch self {
            case .notUTF8(let row), .fieldTooLong(let row, _): row
            }
        }

        public var description: String {
            switch self {
            case .notUTF8(let row): "row \(row) is not valid UTF-8; save the file as UTF-8"
            case .fieldTooLong(let row, let limit): "row \(row) has a field longer than \(limit) bytes"
            }
        }
    }

    private enum State: Sendable { case fieldStart, unquoted, quoted, quoteInQuoted }

    public let maxFieldBytes: Int
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [[UInt8]] = []
    private var row = 1
    private var overlong = false
    private var atStart = true
    private var bomBytes = 0
    private var pendingCR = false

    public init(maxFieldBytes: Int = 64 * 1024) {
        self.maxFieldBytes = maxFieldBytes
    }

    /// Parses `bytes` and returns every record they complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Result<Record, Problem>] {
        var out: [Result<Record, Problem>] = []
        for byte in bytes { consume(byte, into: &out) }
        return out
    }

    /// Ends the input: returns the last record when the file does not end with a newline.
    public mutating func finish() -> [Result<Record, Problem>] {
        var out: [Result<Record, Problem>] = []
        pendingCR = false
        if state != .fieldStart || !field.isEmpty || !fields.isEmpty { endRecord(into: &out) }
        return out
    }

    private mutating func consume(_ byte: UInt8, into out: inout [Result<Record, Problem>]) {
        // Strip a leading UTF-8 BOM (EF BB BF), whatever chunk boundaries it straddles.
        if atStart {
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            if byte == bom[bomBytes] {
                bomBytes += 1
                if bomBytes == 3 { atStart = false }
                return
            }
            atStart = false
            for pending in bom.prefix(bomBytes) { consume(pending, into: &out) }
        }
        if pendingCR {
            pendingCR = false
            if byte == UInt8(ascii: "\n") { return }  // CRLF already ended the record
        }
        switch state {
        case .quoted:
            if byte == UInt8(ascii: "\"") { state = .quoteInQuoted } else { append(byte) }
        case .quoteInQuoted:
            if byte == UInt8(ascii: "\"") {
                append(byte)
                state = .quoted
            } else {
                state = .unquoted
                consumeUnquoted(byte, into: &out)
            }
        case .fieldStart:
            if byte == UInt8(ascii: "\"") {
                state = .quoted
            } else {
                state = .unquoted
                consumeUnquoted(byte, into: &out)
            }
        case .unquoted:
            consumeUnquoted(byte, into: &out)
        }
    }

    private mutating func consumeUnquoted(_ byte: UInt8, into out: inout [Result<Record, Problem>]) {
        switch byte {
        case UInt8(ascii: ","):
            endField()
        case UInt8(ascii: "\n"):
            endRecord(into: &out)
        case UInt8(ascii: "\r"):
            pendingCR = true
            endRecord(into: &out)
        default:
            append(byte)
        }
    }

    private mutating func append(_ byte: UInt8) {
        if field.count >= maxFieldBytes {
            overlong = true
            return
        }
        field.append(byte)
    }

    private mutating func endField() {
        fields.append(field)
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endRecord(into out: inout [Result<Record, Problem>]) {
        endField()
        defer {
            fields.removeAll(keepingCapacity: true)
            overlong = false
            row += 1
        }
        if overlong {
            out.append(.failure(.fieldTooLong(row: row, limit: maxFieldBytes)))
            return
        }
        var decoded: [String] = []
        decoded.reserveCapacity(fields.count)
        for bytes in fields {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                out.append(.failure(.notUTF8(row: row)))
                return
            }
            decoded.append(text)
        }
        out.append(.success(Record(row: row, fields: decoded)))
    }
}
