/// Turns CSV records into rows keyed by header name: the first record is the header, names
/// trimmed and lower-cased so `Phone `, `PHONE` and `phone` all match a `{phone}` placeholder.
public struct CSVTable: Sendable {
    public struct Row: Sendable, Hashable {
        public var row: Int
        /// Header name (trimmed, lower-cased) → value (trimmed).
        public var values: [String: String]
        /// The record's fields as written, for echoing a rejected row back.
        public var fields: [String]
    }

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case parse(CSVParser.Problem)
        /// A row with more or fewer fields than the header; `fields` as written, to show it back.
        case ragged(row: Int, expected: Int, got: Int, fields: [String] = [])
        case missingHeader
        case duplicateHeader(String)
        /// The header row itself could not be read (not UTF-8, a field too long): every column
        /// name would be a guess, and taking the next row as the header would shift the file.
        case unreadableHeader(CSVParser.Problem)

        public var row: Int? {
            switch self {
            case .parse(let problem), .unreadableHeader(let problem): problem.row
            case .ragged(let row, _, _, _): row
            case .missingHeader, .duplicateHeader: nil
            }
        }

        public var description: String {
            switch self {
            case .parse(let problem): problem.description
            case .ragged(let row, let expected, let got, _): "row \(row) has \(got) fields; the header has \(expected)"
            case .missingHeader: "the file has no header row"
            case .duplicateHeader(let name): "the header names `\(name)` twice"
            case .unreadableHeader(let problem): "the header row cannot be read: \(problem.description)"
            }
        }

        /// True when the whole file must be refused: its rows cannot be told apart or named.
        public var isFatal: Bool {
            switch self {
            case .parse(let problem): problem.isFatal
            case .unreadableHeader, .missingHeader: true
            case .ragged, .duplicateHeader: false
            }
        }
    }

    private var parser: CSVParser
    public private(set) var header: [String]?

    public init(maxFieldBytes: Int = 64 * 1024, maxColumns: Int = CSVParser.defaultMaxColumns) {
        parser = CSVParser(maxFieldBytes: maxFieldBytes, maxColumns: maxColumns)
    }

    /// Parses a chunk; returns the rows (or per-row problems) it completes. A problem whose
    /// `isFatal` is true is fatal for the file: the caller stops and refuses it.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Result<Row, Problem>] {
        map(parser.feed(bytes))
    }

    public mutating func finish() -> [Result<Row, Problem>] {
        var out = map(parser.finish())
        if header == nil { out.append(.failure(.missingHeader)) }
        return out
    }

    private mutating func map(_ records: [Result<CSVParser.Record, CSVParser.Problem>]) -> [Result<Row, Problem>] {
        var out: [Result<Row, Problem>] = []
        for result in records {
            switch result {
            case .failure(let problem):
                out.append(.failure(header == nil && !problem.isFatal ? .unreadableHeader(problem) : .parse(problem)))
            case .success(let record):
                if record.fields.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { continue }  // blank line
                guard let header else {
                    let names = record.fields.map { $0.trimmingWhitespace().lowercased() }
                    var seen: Set<String> = []
                    if let duplicate = names.first(where: { !$0.isEmpty && !seen.insert($0).inserted }) {
                        out.append(.failure(.duplicateHeader(duplicate)))
                    }
                    self.header = names
                    continue
                }
                guard record.fields.count == header.count else {
                    out.append(.failure(.ragged(row: record.row, expected: header.count, got: record.fields.count, fields: record.fields)))
                    continue
                }
                var values = [String: String](minimumCapacity: header.count)  // no rehash as it fills
                for (name, value) in zip(header, record.fields) where !name.isEmpty {
                    values[name] = value.trimmingWhitespace()
                }
                out.append(.success(Row(row: record.row, values: values, fields: record.fields)))
            }
        }
        return out
    }
}
