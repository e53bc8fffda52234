import Foundation
import Hummingbird
import MultipartKit
import NIOCore

extension MessagesController {
    /// `POST /upload`: multipart form with `csvFile`, `message`, optional `default_region` and
    /// `phone_column`. The CSV is spooled to disk as it streams in (the form may send the file
    /// before the message it needs), then read back in chunks: memory stays flat for any size.
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = Self.boundary(contentType) else {
            throw APIError(.unsupportedMediaType, code: "not_multipart", "send a multipart/form-data form with a csvFile field", field: "csvFile")
        }
        let spool = try UploadSpool(directory: config.dataDirectory)
        defer { spool.remove() }
        let form = try await spool.receive(request.body, boundary: boundary, limit: config.limits.uploadBytes, maxColumns: config.limits.csvColumns)
        guard form.sawFile else { throw APIError.badRequest("no_file", "the form has no csvFile field", field: "csvFile") }
        let options = try ingestOptions(template: form.fields["message"], region: form.fields["default_region"],
                                        phoneField: form.fields["phone_column"])

        // The shape scan counted the records (header included) while the file streamed in.
        guard form.records - 1 <= config.limits.csvRows else {
            throw APIError(.contentTooLarge, code: "too_many_rows", "the file has \(form.records - 1) rows; at most \(config.limits.csvRows) per upload",
                           field: "csvFile")
        }
        let ingest = BatchIngest(database: database, options: options, source: .csv, client: context.peer, dedupeWindow: config.dedupeWindow)
        ingest.fileName = form.fileName
        try await ingest.begin()
        try await Self.readContacts(try spool.chunks(), phoneField: options.phoneField, maxFieldBytes: config.limits.fieldBytes,
                                    maxColumns: config.limits.csvColumns) { chunk in
            try await ingest.add(chunk)
        }
        return try await finish(ingest, source: .csv, started: started, logger: context.logger)
    }

    /// Reads a CSV as contacts, handing them on in chunks of `chunkSize`, after checking that the
    /// header names the phone column. Shared by the upload API and the web UI's preview and send.
    /// A fatal problem (see `CSVTable.Problem.isFatal`) throws: uploads meet it first in
    /// `UploadSpool.receive`, before any row is handed on.
    static func readContacts(_ chunks: AnySequence<Data>, phoneField: String, maxFieldBytes: Int, maxColumns: Int = CSVParser.defaultMaxColumns,
                             chunkSize: Int = 5000, _ handle: ([ContactInput]) async throws -> Void) async throws {
        var table = CSVTable(maxFieldBytes: maxFieldBytes, maxColumns: maxColumns)
        var pending: [ContactInput] = []
        var sawPhoneColumn = false
        for chunk in chunks {
            for result in table.feed(chunk) { pending.append(try Self.contact(result)) }
            if !sawPhoneColumn, let header = table.header {
                guard header.contains(phoneField) else {
                    var error = APIError.badRequest("no_phone_column", "the CSV header has no `\(phoneField)` column; columns are: \(header.joined(separator: ", "))",
                                                    field: "phone_column")
                    error.columns = header
                    throw error
                }
                sawPhoneColumn = true
            }
            if pending.count >= chunkSize {
                try await handle(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        for result in table.finish() {
            if case .failure(.missingHeader) = result {
                throw APIError.badRequest("empty_csv", "the CSV file is empty; it needs a header row", field: "csvFile")
            }
            pending.append(try Self.contact(result))
        }
        try await handle(pending)
    }

    /// A row as a contact, a per-row problem as a rejected contact; a fatal problem throws.
    static func contact(_ result: Result<CSVTable.Row, CSVTable.Problem>) throws -> ContactInput {
        switch result {
        case .success(let row):
            return ContactInput(position: row.row, values: row.values, raw: .fields(row.fields))
        case .failure(let problem) where problem.isFatal:
            throw APIError(csvProblem: problem)
        case .failure(let problem):
            let row = problem.row ?? 0
            // The row's own text, so the preview and the batch page can show what was wrong.
            var raw = RawContact.none
            if case .ragged(_, _, _, let fields) = problem { raw = .fields(fields) }
            return ContactInput(position: row, values: [:], raw: raw,
                                problem: RowError(position: row, field: "row", kind: .malformedRow, reason: problem.description))
        }
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            let unquoted = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 ? String(value.dropFirst().dropLast()) : value
            return unquoted.isEmpty || unquoted.count > 70 ? nil : unquoted
        }
        return nil
    }
}

extension APIError {
    /// A CSV problem that refuses the whole file (422), naming the row and the rule.
    init(csvProblem problem: CSVTable.Problem) {
        let code = switch problem {
        case .parse(.unterminatedQuote): "unterminated_quote"
        case .parse(.tooManyColumns): "too_many_columns"
        case .unreadableHeader: "unreadable_header"
        case .missingHeader: "empty_csv"
        default: "invalid_csv"
        }
        self.init(.unprocessableContent, code: code, problem.description, field: "csvFile")
    }
}

/// The uploaded file on disk while an upload is processed.
final class UploadSpool {
    let url: URL
    private let handle: FileHandle

    struct Form {
        var fields: [String: String] = [:]
        var sawFile = false
        /// The csvFile part's `filename`, as the client sent it.
        var fileName: String?
        /// Records in the file, the header included.
        var records = 0
    }

    /// Bytes the multipart parser may take without a callback: a part's headers (or a
    /// preamble) longer than this are refused. The parser re-copies a header value on every
    /// chunk, so an unbounded one costs quadratic time as well as memory.
    static let maxPartHeaderBytes = 16 * 1024
    /// Bytes fed to the multipart parser at a time, so the header bound holds inside one
    /// large network read.
    static let parserSliceBytes = 4 * 1024

    init(directory: String) throws {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("uploads")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        url = folder.appendingPathComponent(UUID().uuidString + ".csv")
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, code: "spool_failed", "cannot store the upload")
        }
        handle = try FileHandle(forWritingTo: url)
    }

    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }

    /// Streams the multipart body: the csvFile part to disk, other fields (small) to memory.
    /// The file's shape is checked as it streams (`CSVParser.shapeScanner`): a row wider than
    /// `maxColumns` or a quote left open at the end refuses the upload before any row is
    /// queued, and a hostile file costs no memory while it is refused.
    func receive(_ body: RequestBody, boundary: String, limit: Int, maxColumns: Int = CSVParser.defaultMaxColumns) async throws -> Form {
        let parser = MultipartParser(boundary: boundary)
        var form = Form()
        var currentName: String?
        var fieldBuffer: [UInt8] = []
        var writeError: (any Error)?
        var shape = CSVParser.shapeScanner(maxColumns: maxColumns)
        var shapeProblem: CSVParser.Problem?
        var sinceCallback = 0
        parser.onHeader = { name, value in
            sinceCallback = 0
            if name.lowercased() == "content-disposition" {
                currentName = Self.parameter("name", of: value)
                if currentName == "csvFile" { form.fileName = Self.parameter("filename", of: value) }
            }
        }
        parser.onBody = { [handle] buffer in
            sinceCallback = 0
            guard let name = currentName else { return }
            if name == "csvFile" {
                form.sawFile = true
                // The scan reports only fatal problems; the first one ends the upload.
                if shapeProblem == nil, case .failure(let problem)? = shape.feed(buffer.readableBytesView).first { shapeProblem = problem }
                do { try handle.write(contentsOf: buffer.readableBytesView) } catch { writeError = error }
            } else if fieldBuffer.count < 64 * 1024 {
                fieldBuffer += buffer.readableBytesView
            }
        }
        parser.onPartComplete = {
            sinceCallback = 0
            if let name = currentName, name != "csvFile" {
                form.fields[name] = String(decoding: fieldBuffer, as: UTF8.self)
            }
            fieldBuffer.removeAll()
            currentName = nil
        }
        var received = 0
        for try await buffer in body {
            received += buffer.readableBytes
            guard received <= limit else {
                throw APIError(.contentTooLarge, code: "upload_too_large", "the upload is larger than \(limit) bytes", field: "csvFile")
            }
            var rest = buffer
            while let slice = rest.readSlice(length: min(rest.readableBytes, Self.parserSliceBytes)), slice.readableBytes > 0 {
                do {
                    try parser.execute(slice)
                } catch {
                    throw APIError.badRequest("invalid_multipart", "the multipart body is malformed", field: "csvFile")
                }
                sinceCallback += slice.readableBytes
                guard sinceCallback <= Self.maxPartHeaderBytes else {
                    throw APIError(.contentTooLarge, code: "part_headers_too_large",
                                   "a part's headers are longer than \(Self.maxPartHeaderBytes) bytes", field: "csvFile")
                }
                if let writeError { throw writeError }
                if let shapeProblem { throw APIError(csvProblem: .parse(shapeProblem)) }
            }
        }
        if form.sawFile {
            if case .failure(let problem)? = shape.finish().first { throw APIError(csvProblem: .parse(problem)) }
            form.records = shape.recordsEnded
        }
        try handle.synchronize()
        return form
    }

    /// A parameter of a Content-Disposition header (`name`, `filename`), unquoted.
    static func parameter(_ key: String, of disposition: String) -> String? {
        for parameter in disposition.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// The spooled file in 256 KiB chunks.
    func chunks() throws -> AnySequence<Data> {
        try Self.chunks(of: url)
    }

    /// A file in 256 KiB chunks.
    static func chunks(of url: URL) throws -> AnySequence<Data> {
        let reader = try FileHandle(forReadingFrom: url)
        return AnySequence(AnyIterator {
            let data = (try? reader.read(upToCount: 256 * 1024)) ?? nil
            if data == nil || data!.isEmpty { try? reader.close(); return nil }
            return data
        })
    }

}
