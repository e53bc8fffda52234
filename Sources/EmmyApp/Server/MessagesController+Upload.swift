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
        let form = try await spool.receive(request.body, boundary: boundary, limit: config.limits.uploadBytes)
        guard form.sawFile else { throw APIError.badRequest("no_file", "the form has no csvFile field", field: "csvFile") }
        let options = try ingestOptions(template: form.fields["message"], region: form.fields["default_region"],
                                        phoneField: form.fields["phone_column"])

        // Line ends bound the record count from above (quoted newlines only add to it), so the
        // exact count is needed only for files near the limit.
        let records = form.lineEnds <= config.limits.csvRows ? 0 : try spool.countRecords()
        guard records - 1 <= config.limits.csvRows else {
            throw APIError(.contentTooLarge, code: "too_many_rows", "the file has \(records - 1) rows; at most \(config.limits.csvRows) per upload",
                           field: "csvFile")
        }
        let ingest = BatchIngest(database: database, options: options, source: .csv, client: context.peer, dedupeWindow: config.dedupeWindow)
        try await ingest.begin()
        try await Self.readContacts(try spool.chunks(), phoneField: options.phoneField, maxFieldBytes: config.limits.fieldBytes) { chunk in
            try await ingest.add(chunk)
        }
        return try await finish(ingest, source: .csv, started: started, logger: context.logger)
    }

    /// Reads a CSV as contacts, handing them on in chunks of `chunkSize`, after checking that the
    /// header names the phone column. Shared by the upload API and the web UI's preview and send.
    static func readContacts(_ chunks: AnySequence<Data>, phoneField: String, maxFieldBytes: Int, chunkSize: Int = 5000,
                             _ handle: ([ContactInput]) async throws -> Void) async throws {
        var table = CSVTable(maxFieldBytes: maxFieldBytes)
        var pending: [ContactInput] = []
        var sawPhoneColumn = false
        for chunk in chunks {
            for result in table.feed(chunk) { pending.append(Self.contact(result)) }
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
            pending.append(Self.contact(result))
        }
        try await handle(pending)
    }

    static func contact(_ result: Result<CSVTable.Row, CSVTable.Problem>) -> ContactInput {
        switch result {
        case .success(let row):
            return ContactInput(position: row.row, values: row.values, raw: .fields(row.fields))
        case .failure(let problem):
            let row = problem.row ?? 0
            return ContactInput(position: row, values: [:], raw: .none,
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

/// The uploaded file on disk while an upload is processed.
final class UploadSpool {
    let url: URL
    private let handle: FileHandle

    struct Form {
        var fields: [String: String] = [:]
        var sawFile = false
        /// Line feeds in the file: an upper bound of its records.
        var lineEnds = 0
    }

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
    func receive(_ body: RequestBody, boundary: String, limit: Int) async throws -> Form {
        let parser = MultipartParser(boundary: boundary)
        var form = Form()
        var currentName: String?
        var fieldBuffer: [UInt8] = []
        var writeError: (any Error)?
        parser.onHeader = { name, value in
            if name.lowercased() == "content-disposition" { currentName = Self.fieldName(value) }
        }
        parser.onBody = { [handle] buffer in
            guard let name = currentName else { return }
            if name == "csvFile" {
                form.sawFile = true
                form.lineEnds += buffer.readableBytesView.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
                do { try handle.write(contentsOf: buffer.readableBytesView) } catch { writeError = error }
            } else if fieldBuffer.count < 64 * 1024 {
                fieldBuffer += buffer.readableBytesView
            }
        }
        parser.onPartComplete = {
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
            do {
                try parser.execute(buffer)
            } catch {
                throw APIError.badRequest("invalid_multipart", "the multipart body is malformed", field: "csvFile")
            }
            if let writeError { throw writeError }
        }
        try handle.synchronize()
        return form
    }

    static func fieldName(_ disposition: String) -> String? {
        for parameter in disposition.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces) == "name" else { continue }
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

    /// Records in the file (header included), counted without keeping them.
    func countRecords() throws -> Int {
        var parser = CSVParser(maxFieldBytes: 1)
        var count = 0
        for chunk in try chunks() { count += parser.feed(chunk).count }
        return count + parser.finish().count
    }
}
