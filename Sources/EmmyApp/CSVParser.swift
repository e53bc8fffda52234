/// A streaming CSV parser (RFC 4180 plus what spreadsheets export): feed it byte chunks as
/// they arrive and it hands back complete records, so an upload is never held whole.
///
/// Handles a UTF-8 byte-order mark, CRLF or LF line ends, quoted fields with commas, doubled
/// quotes and embedded newlines. A record that is not valid UTF-8 or has an over-long field
/// becomes a per-record problem; parsing continues with the next record. Two problems are
/// about the file, not a record (`isFatal`): a quote still open at the end, which swallowed
/// every line after it into one field, and a record with more than `maxColumns` fields, whose
/// extra fields are counted but never kept, so a hostile row costs no memory.
public struct CSVParser: Sendable {
    /// One parsed record, numbered from 1 as a spreadsheet numbers rows (the header is row 1).
    public struct Record: Sendable, Hashable {
        public var row: Int
        public var fields: [String]
    }

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notUTF8(row: Int)
        case fieldTooLong(row: Int, limit: Int)
        case unterminatedQuote(row: Int)
        case tooManyColumns(row: Int, limit: Int)

        public var row: Int {
            switch self {
            case .notUTF8(let row), .fieldTooLong(let row, _), .unterminatedQuote(let row), .tooManyColumns(let row, _): row
            }
        }

        /// True when the problem spoils the file, not one record: nothing in it can be trusted.
        public var isFatal: Bool {
            switch self {
            case .unterminatedQuote, .tooManyColumns: true
            case .notUTF8, .fieldTooLong: false
            }
        }

        public var description: String {
            switch self {
            case .notUTF8(let row): "row \(row) is not valid UTF-8; save the file as UTF-8"
            case .fieldTooLong(let row, let limit): "row \(row) has a field longer than \(limit) bytes"
            case .unterminatedQuote(let row):
                "row \(row) opens a quote that is never closed, so every line after it would be read as part of that row; close the quote or remove it"
            case .tooManyColumns(let row, let limit): "row \(row) has more than \(limit) columns"
            }
        }
    }

    private enum State: Sendable { case fieldStart, unquoted, quoted, quoteInQuoted }

    public let maxFieldBytes: Int
    public let maxColumns: Int
    /// False for a scan that only checks the file's shape: fields are counted, never kept.
    private let keepsFields: Bool
    private var state = State.fieldStart
    /// The current record's kept bytes, fields back to back: one buffer reused for every
    /// record instead of an array per field.
    private var recordBytes: [UInt8] = []
    /// Where each kept field of the current record ends in `recordBytes`.
    private var fieldEnds: [Int] = []
    /// Where the current field starts in `recordBytes`.
    private var fieldStart = 0
    private var fieldCount = 0
    private var row = 1
    private var overlong = false
    private var atStart = true
    private var bomBytes = 0
    private var pendingCR = false

    public static let defaultMaxColumns = 1000

    public init(maxFieldBytes: Int = 64 * 1024, maxColumns: Int = CSVParser.defaultMaxColumns) {
        self.init(maxFieldBytes: maxFieldBytes, maxColumns: maxColumns, keepsFields: true)
    }

    private init(maxFieldBytes: Int, maxColumns: Int, keepsFields: Bool) {
        self.maxFieldBytes = maxFieldBytes
        self.maxColumns = maxColumns
        self.keepsFields = keepsFields
    }

    /// A parser that checks the file's shape while it streams in, keeping nothing: it counts
    /// records and reports only the fatal problems (as records complete, and at `finish`).
    public static func shapeScanner(maxColumns: Int = CSVParser.defaultMaxColumns) -> CSVParser {
        CSVParser(maxFieldBytes: 0, maxColumns: maxColumns, keepsFields: false)
    }

    /// Records ended so far (the header included).
    public var recordsEnded: Int { row - 1 }

    /// Parses `bytes` and returns every record they complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Result<Record, Problem>] {
        var out: [Result<Record, Problem>] = []
        let scanned: Void? = bytes.withContiguousStorageIfAvailable { consume($0, into: &out) }
        if scanned == nil {
            for byte in bytes { consume(byte, into: &out) }
        }
        return out
    }

    /// Ends the input: returns the last record when the file does not end with a newline.
    public mutating func finish() -> [Result<Record, Problem>] {
        var out: [Result<Record, Problem>] = []
        pendingCR = false
        if state == .quoted {
            // The quote swallowed the rest of the file: report the row it opened on.
            out.append(.failure(.unterminatedQuote(row: row)))
            return out
        }
        if state != .fieldStart || recordBytes.count > fieldStart || fieldCount > 0 { endRecord(into: &out) }
        return out
    }

    /// `consume(_:into:)` for a run of bytes: the plain stretches of a field (no separator, line
    /// end or quote) are found in a tight loop and kept with one copy; the rest goes byte by byte.
    private mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Result<Record, Problem>]) {
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            guard !atStart, !pendingCR else {
                consume(byte, into: &out)
                index += 1
                continue
            }
            if state == .unquoted || (state == .fieldStart && byte != UInt8(ascii: "\"")) {
                state = .unquoted
                var end = index
                while end < count, bytes[end] != UInt8(ascii: ","), bytes[end] != UInt8(ascii: "\n"), bytes[end] != UInt8(ascii: "\r") { end += 1 }
                append(UnsafeBufferPointer(rebasing: bytes[index..<end]))
                if end < count { consumeUnquoted(bytes[end], into: &out) }
                index = end + 1
            } else if state == .quoted {
                var end = index
                while end < count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                append(UnsafeBufferPointer(rebasing: bytes[index..<end]))
                if end < count { state = .quoteInQuoted }
                index = end + 1
            } else {
                consume(byte, into: &out)
                index += 1
            }
        }
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
            endField(into: &out)
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
        guard keepsFields else { return }
        if recordBytes.count - fieldStart >= maxFieldBytes {
            overlong = true
            return
        }
        recordBytes.append(byte)
    }

    /// `append(_:)` for each byte of `run`, in one copy.
    private mutating func append(_ run: UnsafeBufferPointer<UInt8>) {
        guard keepsFields, !run.isEmpty else { return }
        let room = max(0, maxFieldBytes - (recordBytes.count - fieldStart))
        if run.count > room {
            overlong = true
            recordBytes.append(contentsOf: UnsafeBufferPointer(rebasing: run[..<room]))
        } else {
            recordBytes.append(contentsOf: run)
        }
    }

    /// Reports a too-wide record as soon as it crosses the limit, so a scan refuses a
    /// million-column row without reading to its end.
    private mutating func endField(into out: inout [Result<Record, Problem>]) {
        fieldCount += 1
        if fieldCount == maxColumns + 1 { out.append(.failure(.tooManyColumns(row: row, limit: maxColumns))) }
        if keepsFields {
            if fieldCount <= maxColumns {
                fieldEnds.append(recordBytes.count)
            } else {
                recordBytes.removeSubrange(fieldStart...)
            }
            fieldStart = recordBytes.count
        }
        state = .fieldStart
    }

    private mutating func endRecord(into out: inout [Result<Record, Problem>]) {
        endField(into: &out)
        defer {
            recordBytes.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            fieldStart = 0
            fieldCount = 0
            overlong = false
            row += 1
        }
        guard keepsFields, fieldCount <= maxColumns else { return }
        if overlong {
            out.append(.failure(.fieldTooLong(row: row, limit: maxFieldBytes)))
            return
        }
        let decoded = recordBytes.withUnsafeBufferPointer { bytes -> [String]? in
            var decoded: [String] = []
            decoded.reserveCapacity(fieldEnds.count)
            var start = 0
            for end in fieldEnds {
                guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) else { return nil }
                decoded.append(text)
                start = end
            }
            return decoded
        }
        guard let decoded else {
            out.append(.failure(.notUTF8(row: row)))
            return
        }
        out.append(.success(Record(row: row, fields: decoded)))
    }
}
