import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A CSV answered as a download, shared by every export route (rejected rows, failed
/// messages, a preview's rejections).
///
/// Lines are written to a temporary file as they are produced, then streamed to the client in
/// 64 KiB chunks: memory stays flat for an export of any size, and a database read holds its
/// snapshot only while the file is written, never while a slow client downloads. The file is
/// unlinked as soon as it is created, so nothing is left behind if the server dies, and its
/// space is freed when the response is done with it.
final class CSVDownload: @unchecked Sendable {
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var size = 0
    static let chunkBytes = 64 * 1024

    init(header: [String]) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-export-\(UUID().uuidString).csv").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw APIError(.internalServerError, code: "export_failed", "cannot write the export") }
        unlink(path)
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try add(header)
    }

    func add(_ fields: [String]) throws {
        pending += CSVWriter.line(fields).utf8
        if pending.count >= Self.chunkBytes { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: pending)
        size += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    /// The file as a `text/csv` attachment named `filename`.
    func response(filename: String) throws -> Response {
        try flush()
        try handle.seek(toOffset: 0)
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: size) { [self] writer in
            while let data = try handle.read(upToCount: Self.chunkBytes), !data.isEmpty {
                try await writer.write(ByteBuffer(bytes: data))
            }
            try await writer.finish(nil)
        })
    }
}
