import Foundation
import HTTPTypes
import Hummingbird

/// The live part of a batch's page: progress, counts by status, where the unfinished messages
/// wait (the throttle is not "sending"), throughput and time left. app.js fetches it every few
/// seconds while the batch runs, as the monitoring page does its own.
extension WebController {
    /// Throughput is measured over this window (or the batch's age, when younger).
    static let throughputWindow: TimeInterval = 60

    @Sendable func batchLive(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let redirect = pages.requireSession(request) { return redirect }
        let id = try context.parameters.require("id")
        guard let batch = try await database.batch(id: id) else {
            throw APIError(.notFound, code: "no_such_batch", "There is no batch \(id).")
        }
        let html = try pages.templates.render("batch-live", try await liveValues(batch))
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `batchValues` plus where the unfinished messages are and how fast the batch finishes.
    func liveValues(_ batch: BatchRecord, now: Date = Date()) async throws -> [String: Any] {
        var values = Self.batchValues(batch)
        let window = min(Self.throughputWindow, max(1, now.timeIntervalSince(batch.createdAt)))
        let progress = try await database.batchProgress(id: batch.id, since: now.addingTimeInterval(-window))
        let here = activity.count(among: progress.claimedIDs)
        values["phaseQueued"] = progress.queued
        values["phaseThrottled"] = here.throttled
        values["phaseSending"] = here.atProvider
        let waitingForWorker = progress.claimedIDs.count - here.throttled - here.atProvider
        if waitingForWorker > 0 { values["phaseWorker"] = waitingForWorker }
        values["phaseRetrying"] = progress.retrying
        let perMinute = Double(progress.finishedInWindow) * 60 / window
        values["throughput"] = String(format: "%.0f messages/min", perMinute)
        values["eta"] = Self.timeLeft(remaining: batch.total - batch.finished, perMinute: perMinute, complete: batch.complete)
        return values
    }

    static func timeLeft(remaining: Int, perMinute: Double, complete: Bool) -> String {
        if remaining == 0 { return complete ? "done" : "waiting for the upload to finish" }
        guard perMinute > 0 else { return "unknown until a message finishes" }
        return "about " + DateText.humanDuration((Double(remaining) / perMinute * 60).rounded(.up))
    }
}
