import Foundation
import HTTPTypes
import Hummingbird

/// The server-rendered pages: upload, results, a batch, monitoring, sign-in; and /static/.
/// Every page is complete without JavaScript; app.js only refreshes a running batch's counts.
struct WebController: Sendable {
    let database: any AppStore
    let config: ServerConfig
    let pages: WebPages
    let started: Date
    let history: ActivityHistory
    let activity: SendActivity

    /// The HTML pages (routes as the router names them), which send a browser without a session to sign in.
    static let pages: Set<String> = ["/", "/results", "/batches/{id}", "/monitoring"]

    func add(to router: Router<AppRequestContext>) {
        router.get("/", use: upload)
        router.get("/results", use: results)
        router.get("/batches/:id", use: batch)
        router.get("/batches/:id/live", use: batchLive)
        router.get("/monitoring", use: monitoring)
        router.get("/monitoring/live", use: monitoringLive)
        router.get("/login", use: login)
        router.post("/login", use: signIn)
        router.post("/logout", use: signOut)
        router.get("/static/:name", use: asset)
        // The API's description (Templates/web/static/openapi.json), where tools look for it.
        router.get("/openapi.json") { _, _ in
            guard let response = WebTemplates.asset("openapi.json") else { throw APIError(.notFound, code: "not_found", "no such file") }
            return response
        }
        router.get("/api/batches/:id/failed.csv", use: failedCSV)
    }

    static let pageSize = 50
    static func timestamp(_ date: Date) -> String { DateText.readable(date) }

    @Sendable func asset(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let response = WebTemplates.asset(try context.parameters.require("name")) else {
            throw APIError(.notFound, code: "not_found", "no such file")
        }
        return response
    }

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let redirect = pages.requireSession(request) { return redirect }
        return try pages.render("upload", title: "Upload contacts", ["region": config.defaultRegion], request: request, context: context)
    }

    /// One batch's values for the results table and the batch page.
    static func batchValues(_ batch: BatchRecord) -> [String: Any] {
        let total = batch.total
        let statuses = batch.statuses ?? [:]
        return [
            "id": batch.id, "name": batch.fileName ?? batch.id, "created": timestamp(batch.createdAt), "source": batch.source, "template": batch.template,
            "accepted": batch.accepted, "rejected": batch.rejected, "duplicates": batch.duplicates, "segments": batch.segments,
            "total": total, "done": batch.finished, "percent": total == 0 ? 100 : batch.finished * 100 / total,
            "live": batch.finished < total || !batch.complete,
            "sentCount": batch.count(MessageStatus.succeeded),
            "failedCount": batch.count(MessageStatus.unsuccessful),
            "queuedCount": batch.count(MessageStatus.waiting),
            // What Retry failed requeues (SendQueue.requeueFailed): the button shows only then.
            "retryable": batch.count(MessageStatus.unsuccessful) > 0,
            "counts": MessageStatus.names.map { ["status": $0, "count": statuses[$0] ?? 0] },
        ]
    }

    @Sendable func results(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let redirect = pages.requireSession(request) { return redirect }
        let cursor = request.uri.queryParameters["cursor"].map(String.init)
        let batches = try await database.batches(limit: Self.pageSize, before: cursor, withStatuses: true)
        var values: [String: Any] = ["batches": batches.map(Self.batchValues), "empty": batches.isEmpty]
        if batches.count == Self.pageSize, let last = batches.last { values["next"] = "/results?cursor=\(last.id)" }
        return try pages.render("results", title: "Results", values, request: request, context: context)
    }

    @Sendable func batch(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let redirect = pages.requireSession(request) { return redirect }
        let id = try context.parameters.require("id")
        guard let batch = try await database.batch(id: id) else {
            return try pages.error(APIError(.notFound, code: "no_such_batch", "There is no batch \(id)."), request: request, context: context)
        }
        let query = request.uri.queryParameters
        let status = query["status"].flatMap { MessageStatus(rawValue: String($0)) }
        let cursor = query["cursor"].flatMap { Int64($0) } ?? 0
        let messages = try await database.messages(MessageQuery(batchID: id, statuses: status.map { [$0] }, afterID: cursor, limit: Self.pageSize))
        let rejections = try await database.rejections(batchID: id, limit: 101)
        var values = try await liveValues(batch)
        values["filters"] = [["value": "", "label": "All", "selected": status == nil]]
            + MessageStatus.names.map { ["value": $0, "label": $0, "selected": $0 == status?.rawValue] }
        values["messages"] = messages.map { message in
            ["row": message.row, "phone": message.phone, "body": message.body, "encoding": message.encoding, "segments": message.segments,
             "status": message.status, "updated": Self.timestamp(message.updatedAt)] as [String: Any]
        }
        values["noMessages"] = messages.isEmpty
        if messages.count == Self.pageSize, let last = messages.last {
            values["next"] = "/batches/\(id)?\(status.map { "status=\($0.rawValue)&" } ?? "")cursor=\(last.id)"
        }
        values["rejections"] = rejections.prefix(100).map {
            ["row": $0.row, "field": $0.field, "kind": $0.kind, "reason": $0.reason, "original": $0.original] as [String: Any]
        }
        values["moreRejections"] = rejections.count > 100
        return try pages.render("batch", title: "Batch \(batch.fileName ?? id)", values, request: request, context: context)
    }

    @Sendable func monitoring(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let redirect = pages.requireSession(request) { return redirect }
        var values = await monitoringValues(context: context)
        // Only http(s) links: a `javascript:` URL from a spec must not become a clickable link.
        values["links"] = config.dashboards.sorted { $0.key < $1.key }.compactMap { name, url -> [String: String]? in
            guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return nil }
            return ["name": name, "url": url]
        }
        return try pages.render("monitoring", title: "Monitoring", values, request: request, context: context)
    }

    /// The page's live part alone, which app.js fetches every few seconds instead of reloading.
    @Sendable func monitoringLive(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let redirect = pages.requireSession(request) { return redirect }
        let html = try pages.templates.render("monitoring-live", await monitoringValues(context: context))
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Minutes the send rate and error ratio tiles cover.
    static let rateWindow = 5

    func monitoringValues(context: AppRequestContext) async -> [String: Any] {
        var values: [String: Any] = ["uptime": DateText.humanDuration(Date().timeIntervalSince(started)), "version": EmmyAppVersion.current]
        values.merge(panelValues(await fetchPanels())) { $1 }
        // From the provider attempts themselves: counting messages by their last status missed
        // every message the provider had accepted but not yet reported sent.
        values["sendRate"] = String(format: "%.1f", history.sendRate(minutes: Self.rateWindow))
        values["errorRatio"] = history.errorRatio(minutes: Self.rateWindow).map { String(format: "%.1f%%", $0 * 100) } ?? "no attempts"
        values["window"] = Self.rateWindow
        do {
            let counts = try await database.statusCounts()
            let queue = try await database.queueState()
            let lastErrors = try await database.messages(MessageQuery(statuses: MessageStatus.unsuccessful, limit: 10, order: .lastUpdated))
            values["healthy"] = true
            values["queueDepth"] = queue.depth
            values["oldestAge"] = Int(queue.oldestAge)
            values["counts"] = MessageStatus.names.map { ["status": $0, "count": counts[$0] ?? 0] }
            values["lastErrors"] = lastErrors.map {
                ["row": $0.row, "phone": $0.phone, "status": $0.status, "updated": Self.timestamp($0.updatedAt)] as [String: Any]
            }
            values["noErrors"] = lastErrors.isEmpty
        } catch {
            values["healthy"] = false
            context.logger.error("monitoring: database check failed", metadata: ["error": "\(error)"])
        }
        values["ready"] = (try? await database.isMigrated()) ?? false
        return values
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        try pages.render("login", title: "Sign in", ["authRequired": config.authRequired], request: request, context: context)
    }

    /// Exchanges an API token (CSRF-checked by WebGuardMiddleware) for a session cookie.
    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let fields = FormFields(String(buffer: try await request.collectBody(upTo: WebGuardMiddleware.maxFormBytes)))
        let token = fields["token"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !token.isEmpty, try await TokenStore(database: database).isValid(token) else {
            return try pages.render("login", title: "Sign in", ["authRequired": config.authRequired, "error": "That token is unknown or revoked."],
                                    status: .unauthorized, request: request, context: context)
        }
        var response = WebPages.redirect("/")
        response.setCookie(pages.cookie(WebSecret.sessionCookie, pages.secret.createSession(), maxAge: Int(WebSecret.sessionLifetime),
                                        request: request, context: context))
        return response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        pages.secret.endSession(request.cookies[WebSecret.sessionCookie]?.value)
        var response = WebPages.redirect("/login")
        response.setCookie(pages.cookie(WebSecret.sessionCookie, "", maxAge: 0, request: request, context: context))
        return response
    }

    /// Messages of a batch that failed or were undelivered, as CSV (for fixing and re-uploading).
    @Sendable func failedCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await database.batch(id: id) != nil else {
            throw APIError(.notFound, code: "no_such_batch", "no batch \(id)", field: "id")
        }
        let download = try CSVDownload(header: ["row", "phone", "status", "updated_at", "body"])
        try await database.forEachMessage(MessageQuery(batchID: id, statuses: MessageStatus.unsuccessful, order: .row)) { message in
            try download.add(["\(message.row)", message.phone, message.status, Self.timestamp(message.updatedAt), message.body])
        }
        return try download.response(filename: "failed-\(id).csv")
    }
}
