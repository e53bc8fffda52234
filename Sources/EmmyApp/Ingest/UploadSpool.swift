import Foundation
import Hummingbird
import MultipartKit
import NIOCore

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
        return form
    }

    /// Flushes the file to the disk, for a spool kept beyond its request (a draft). An upload's
    /// spool is read back by the same request and deleted: nothing ever reads it after a crash,
    /// so it is not synced (the batch's own commit is what a 202 makes durable).
    func makeDurable() throws {
        try handle.synchronize()
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

    /// The multipart boundary named by a Content-Type header; nil when missing or invalid.
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
