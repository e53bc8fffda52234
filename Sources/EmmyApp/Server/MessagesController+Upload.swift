import Foundation
import Hummingbird
import NIOCore

extension MessagesController {
    /// `POST /upload`: multipart form with `csvFile`, `message`, optional `default_region` and
    /// `phone_column`. The CSV is spooled to disk as it streams in (the form may send the file
    /// before the message it needs), then read back in chunks: memory stays flat for any size.
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = UploadSpool.boundary(contentType) else {
            throw APIError(.unsupportedMediaType, code: "not_multipart", "send a multipart/form-data form with a csvFile field", field: "csvFile")
        }
        let spool = try UploadSpool(directory: config.dataDirectory)
        defer { spool.remove() }
        let form = try await spool.receive(request.body, boundary: boundary, limit: config.limits.uploadBytes, maxColumns: config.limits.csvColumns)
        guard form.sawFile else { throw APIError.badRequest("no_file", "the form has no csvFile field", field: "csvFile") }
        let options = try ingest.options(template: form.fields["message"], region: form.fields["default_region"],
                                         phoneField: form.fields["phone_column"])

        // The shape scan counted the records (header included) while the file streamed in.
        guard form.records - 1 <= config.limits.csvRows else {
            throw APIError(.contentTooLarge, code: "too_many_rows", "the file has \(form.records - 1) rows; at most \(config.limits.csvRows) per upload",
                           field: "csvFile")
        }
        let summary = try await ingest.ingestCSV(try spool.chunks(), options: options, client: context.peer, fileName: form.fileName,
                                                 maxColumns: config.limits.csvColumns, started: started, logger: context.logger)
        return try jsonResponse(IngestResponse(summary, source: .csv), status: .accepted)
    }
}
