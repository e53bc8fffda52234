import Foundation
import Logging
import PhoneNumbers

/// Ingest as a service of its own: the options a request asks for, contacts read from a CSV,
/// and batches run from first row to durable summary, with their metrics and log line. The
/// API (`MessagesController`) and the web preview and send (`PreviewController`) both call it,
/// so a rule added here holds for both.
struct IngestService: Sendable {
    let store: any AppStore
    let config: ServerConfig
    let metrics: AppMetrics

    /// The template, region and phone column a request asked for, checked.
    func options(template text: String?, region: String?, phoneField: String?) throws -> IngestOptions {
        guard let text, !text.trimmingWhitespace().isEmpty else {
            throw APIError.badRequest("no_message", "message must not be empty", field: "message")
        }
        guard text.count <= config.limits.templateCharacters else {
            throw APIError.badRequest("message_too_long", "message is longer than \(config.limits.templateCharacters) characters", field: "message")
        }
        let template: MessageTemplate
        do {
            template = try MessageTemplate(text)
        } catch {
            throw APIError.badRequest("invalid_template", error.description, field: "message")
        }
        let region = (region?.trimmingWhitespace()).flatMap { $0.isEmpty ? nil : $0.uppercased() } ?? config.defaultRegion
        guard PhoneNumberParser.supportedRegions.contains(region) else {
            throw APIError.badRequest("invalid_region", "`\(region)` is not a known region code (ISO 3166, e.g. KE, US, GB)", field: "default_region")
        }
        return IngestOptions(template: template, templateText: text, defaultRegion: region, phoneField: phoneField ?? "phone")
    }

    /// A batch, recorded and ready for its contacts.
    func begin(_ options: IngestOptions, source: BatchIngest.Source, client: String?, fileName: String? = nil) async throws -> BatchIngest {
        let ingest = BatchIngest(database: store, options: options, source: source, client: client, dedupeWindow: config.dedupeWindow)
        ingest.fileName = fileName
        try await ingest.begin()
        return ingest
    }

    /// An ingest that is never begun, for `BatchIngest.preview`: it writes nothing.
    func previewer(_ options: IngestOptions, client: String?) -> BatchIngest {
        BatchIngest(database: store, options: options, source: .csv, client: client, dedupeWindow: config.dedupeWindow)
    }

    /// Ingests a CSV (a spooled upload or a draft) as one batch.
    func ingestCSV(_ chunks: AnySequence<Data>, options: IngestOptions, client: String?, fileName: String?,
                   maxColumns: Int = CSVParser.defaultMaxColumns, started: ContinuousClock.Instant, logger: Logger) async throws -> BatchSummary {
        let ingest = try await begin(options, source: .csv, client: client, fileName: fileName)
        try await Self.readContacts(chunks, phoneField: options.phoneField, maxFieldBytes: config.limits.fieldBytes, maxColumns: maxColumns) { chunk in
            try await ingest.add(chunk)
        }
        return try await finish(ingest, source: .csv, started: started, logger: logger)
    }

    /// Completes the batch, records its metrics and logs it.
    func finish(_ ingest: BatchIngest, source: BatchIngest.Source, started: ContinuousClock.Instant, logger: Logger) async throws -> BatchSummary {
        let summary = try await ingest.finish()
        let seconds = (ContinuousClock.now - started).seconds
        metrics.batchIngested(accepted: summary.accepted, rejections: ingest.rejectionsByKind, seconds: seconds)
        logger.info("batch", metadata: [
            "batch_id": .string(summary.batchID), "source": .string(source.rawValue), "accepted": .stringConvertible(summary.accepted),
            "rejected": .stringConvertible(summary.rejected), "duplicates": .stringConvertible(summary.duplicates),
            "seconds": .stringConvertible((seconds * 1000).rounded() / 1000),
        ])
        return summary
    }

    /// Reads a CSV as contacts, handing them on in chunks of `chunkSize`, after checking that the
    /// header names the phone column. A fatal problem (see `CSVTable.Problem.isFatal`) throws: uploads meet it first in
    /// `UploadSpool.receive`, before any row is handed on.
    static func readContacts(_ chunks: AnySequence<Data>, phoneField: String, maxFieldBytes: Int, maxColumns: Int = CSVParser.defaultMaxColumns,
                             chunkSize: Int = 5000, _ handle: ([ContactInput]) async throws -> Void) async throws {
        var table = CSVTable(maxFieldBytes: maxFieldBytes, maxColumns: maxColumns)
        var pending: [ContactInput] = []
        var sawPhoneColumn = false
        // The first chunk is small, so the single writer starts on the first rows a few
        // milliseconds into the upload instead of after a whole chunk is parsed and validated.
        var limit = min(chunkSize, 1000)
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
            if pending.count >= limit {
                try await handle(pending)
                pending.removeAll(keepingCapacity: true)
                limit = chunkSize
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
