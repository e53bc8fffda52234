import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /preview` (page), `POST /api/preview` (JSON) and `POST /send`.
///
/// A preview takes the upload form (multipart, the file spooled to disk) or, to change the
/// template or phone column, a draft id (urlencoded). The file is kept as a draft, so Send
/// posts only the draft id: the CSV is uploaded once, with or without JavaScript.
struct PreviewController: Sendable {
    let ingest: IngestService
    let pages: WebPages
    let drafts: DraftStore

    func add(to router: Router<AppRequestContext>) {
        router.post("/preview", use: previewPage)
        router.post("/api/preview", use: previewJSON)
        router.post("/send", use: send)
        router.get("/api/preview/:draft/rejected.csv", use: rejectedCSV)
    }

    var config: ServerConfig { ingest.config }

    /// The form as received: which draft, its options, and the CSV header.
    struct Outcome {
        var draftID: String
        var draft: DraftStore.Draft
        var columns: [String]
        var preview: BatchPreview?
        var error: APIError?
    }

    /// Stores the upload as a draft (or loads the draft named), then previews it. Option errors
    /// (a bad template, no phone column) come back in `error` with the draft kept.
    func run(_ request: Request, context: AppRequestContext) async throws -> Outcome {
        var request = request
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let now = Date()
        var draftID: String
        var draft: DraftStore.Draft
        if type.hasPrefix("multipart/form-data") {
            guard let boundary = UploadSpool.boundary(request.headers[.contentType] ?? "") else {
                throw APIError.badRequest("not_multipart", "the multipart form has no boundary", field: "csvFile")
            }
            try drafts.ensureRoom(adding: 0, now: now)
            let spool = try UploadSpool(directory: config.dataDirectory)
            defer { spool.remove() }
            let form = try await spool.receive(request.body, boundary: boundary, limit: config.limits.uploadBytes)
            // Bearer-token clients are checked by AuthMiddleware; browsers by the form's token.
            if request.headers[.authorization] == nil {
                guard pages.secret.verify(token: form.fields["csrf"], cookie: request.cookies[WebSecret.csrfCookie]?.value) else {
                    throw WebGuardMiddleware.csrfFailure
                }
                guard context.webAuthenticated || !config.authRequired else {
                    throw APIError(.unauthorized, code: "unauthorized", "sign in first")
                }
            }
            guard form.sawFile else { throw APIError.badRequest("no_file", "choose a CSV file to upload", field: "csvFile") }
            draft = DraftStore.Draft(message: form.fields["message"] ?? "", region: form.fields["default_region"] ?? "",
                                     phoneColumn: form.fields["phone_column"] ?? "", created: now, fileName: form.fileName)
            try spool.makeDurable()
            draftID = try drafts.create(from: spool.url, draft: draft)
        } else if type.hasPrefix("application/x-www-form-urlencoded") {
            let fields = FormFields(String(buffer: try await request.collectBody(upTo: WebGuardMiddleware.maxFormBytes)))
            guard let id = fields["draft"], let loaded = drafts.load(id) else { throw Self.draftGone }
            draftID = id
            draft = loaded.draft
            draft.message = fields["message"] ?? draft.message
            draft.region = fields["default_region"] ?? draft.region
            draft.phoneColumn = fields["phone_column"] ?? draft.phoneColumn
            try drafts.save(draftID, draft)
        } else {
            throw APIError(.unsupportedMediaType, code: "not_a_form", "send the upload form (multipart/form-data with a csvFile field)", field: "csvFile")
        }
        let csv = drafts.csvURL(draftID)!
        let columns = Self.header(of: csv) ?? []
        var outcome = Outcome(draftID: draftID, draft: draft, columns: columns)
        do {
            let options = try options(draft)
            let previewer = ingest.previewer(options, client: context.peer)
            var preview = BatchPreview()
            try await IngestService.readContacts(try UploadSpool.chunks(of: csv), phoneField: options.phoneField,
                                                 maxFieldBytes: config.limits.fieldBytes) { contacts in
                guard !contacts.isEmpty else { return }
                let (accepted, errors) = try await previewer.preview(contacts)
                preview.add(accepted: accepted, errors: errors, contacts: contacts)
            }
            guard preview.rows <= config.limits.csvRows else {
                throw APIError(.contentTooLarge, code: "too_many_rows", "the file has \(preview.rows) rows; at most \(config.limits.csvRows) per upload",
                               field: "csvFile")
            }
            outcome.preview = preview
        } catch let error as APIError {
            outcome.error = error
        }
        return outcome
    }

    func options(_ draft: DraftStore.Draft) throws -> IngestOptions {
        try ingest.options(template: draft.message, region: draft.region,
                           phoneField: draft.phoneColumn.trimmingWhitespace().isEmpty ? nil : draft.phoneColumn)
    }

    static let draftGone = APIError(.gone, code: "draft_expired", "that upload has expired or was already sent; upload the file again", field: "draft")

    /// The CSV's header row (lower-cased, as ingest keys fields), for the phone column chooser.
    static func header(of csv: URL) -> [String]? {
        var table = CSVTable(maxFieldBytes: 4096)
        guard let chunks = try? UploadSpool.chunks(of: csv) else { return nil }
        for chunk in chunks {
            _ = table.feed(chunk)
            if let header = table.header { return header }
        }
        _ = table.finish()
        return table.header
    }

    @Sendable func previewJSON(_ request: Request, context: AppRequestContext) async throws -> Response {
        let outcome = try await run(request, context: context)
        if let error = outcome.error { throw error }
        struct Answer: Encodable {
            var draftId: String
            var expiresAt: Date
            var preview: BatchPreview
        }
        return try jsonResponse(Answer(draftId: outcome.draftID, expiresAt: outcome.draft.created.addingTimeInterval(DraftStore.lifetime),
                                       preview: outcome.preview ?? BatchPreview()))
    }

    @Sendable func previewPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let outcome: Outcome
        do {
            outcome = try await run(request, context: context)
        } catch let error as APIError {
            if error.status == .unauthorized { throw error }
            if error.code == WebGuardMiddleware.csrfFailure.code {
                guard WebGuardMiddleware.wantsHTML(request) else { throw error }
                return try pages.error(error, request: request, context: context)
            }
            return try pages.render("upload", title: "Upload contacts", ["error": error.message, "region": config.defaultRegion],
                                    status: error.status, request: request, context: context)
        }
        let draft = outcome.draft
        let phone = draft.phoneColumn.trimmingWhitespace().isEmpty ? "phone" : draft.phoneColumn.trimmingWhitespace().lowercased()
        struct Column { var name: String; var selected: Bool }
        var values: [String: Any] = [
            "draft": outcome.draftID,
            "message": draft.message,
            "region": draft.region.isEmpty ? config.defaultRegion : draft.region,
            "columns": outcome.columns.map { Column(name: $0, selected: $0 == phone) },
            "missingColumn": !outcome.columns.contains(phone),
        ]
        if let error = outcome.error { values["error"] = error.message }
        if let preview = outcome.preview {
            values["preview"] = preview
            values["sampleCount"] = preview.sample.count
            values["canSend"] = preview.messages > 0
            values["hasRejected"] = !preview.rejected.isEmpty
            values["listedRejections"] = preview.rejected.count
        }
        return try pages.render("preview", title: "Preview", values, status: outcome.error?.status ?? .ok, request: request, context: context)
    }

    /// Every row the draft would reject, as CSV (the page lists only the first few hundred).
    @Sendable func rejectedCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        // AuthMiddleware lets through a session or a bearer token (an /api/preview client).
        let id = try context.parameters.require("draft")
        guard let (draft, csv) = drafts.load(id) else { throw Self.draftGone }
        let options = try options(draft)
        let previewer = ingest.previewer(options, client: context.peer)
        let download = try CSVDownload(header: ["row", "field", "kind", "reason", "original"])
        try await IngestService.readContacts(try UploadSpool.chunks(of: csv), phoneField: options.phoneField,
                                             maxFieldBytes: config.limits.fieldBytes) { contacts in
            guard !contacts.isEmpty else { return }
            let raws = Dictionary(contacts.map { ($0.position, $0.raw) }, uniquingKeysWith: { first, _ in first })
            for error in try await previewer.preview(contacts).errors.sorted(by: { $0.position < $1.position }) {
                try download.add(["\(error.position)", error.field, error.kind.rawValue, error.reason, raws[error.position]?.text ?? ""])
            }
        }
        return try download.response(filename: "rejected-preview.csv")
    }

    /// Queues the draft as a batch, then shows it (303 to `/batches/ID`).
    @Sendable func send(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        var request = request
        let fields = FormFields(String(buffer: try await request.collectBody(upTo: WebGuardMiddleware.maxFormBytes)))
        // Claiming renames the file, so a double-clicked Send queues the batch once.
        guard let id = fields["draft"], let (draft, csv) = drafts.claim(id) else {
            return try pages.error(Self.draftGone, request: request, context: context)
        }
        defer { try? FileManager.default.removeItem(at: csv) }
        let options: IngestOptions
        do {
            options = try self.options(draft)
        } catch let error as APIError {
            return try pages.error(error, request: request, context: context)
        }
        let summary = try await ingest.ingestCSV(try UploadSpool.chunks(of: csv), options: options, client: context.peer, fileName: draft.fileName,
                                                 started: started, logger: context.logger)
        return WebPages.redirect("/batches/\(summary.batchID)")
    }
}
