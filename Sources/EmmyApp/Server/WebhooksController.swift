import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Twilio's calls into EmmyApp: status callbacks and inbound messages (for STOP). Each must
/// carry a valid `X-Twilio-Signature`; anything else gets 403 and changes nothing.
struct WebhooksController: Sendable {
    let database: any AppStore
    let config: ServerConfig
    let metrics: AppMetrics
    /// The auth token signatures are keyed with; nil when none is configured (then every
    /// callback is refused).
    let authToken: String?

    init(database: any AppStore, config: ServerConfig, metrics: AppMetrics) {
        self.database = database
        self.config = config
        self.metrics = metrics
        authToken = try? config.sending.twilio.authToken.resolve(in: config.environment)
    }

    func add(to router: Router<AppRequestContext>) {
        router.post(RouterPath(SendingConfig.statusCallbackPath), use: status)
        router.post("/webhooks/twilio/inbound", use: inbound)
    }

    /// The form parameters of a correctly signed request, or a 403.
    private func verifiedForm(_ request: Request, context: AppRequestContext) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let parameters = FormEncoding.decode(String(buffer: body))
        guard let authToken, let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!],
              TwilioSignature.isValid(signature, url: calledURL(request), parameters: parameters, authToken: authToken) else {
            context.logger.warning("webhook with a missing or bad X-Twilio-Signature", metadata: ["path": "\(request.uri.path)"])
            throw APIError(.forbidden, code: "bad_signature", "X-Twilio-Signature does not match this request")
        }
        return Dictionary(parameters, uniquingKeysWith: { first, _ in first })
    }

    /// The URL Twilio called: the configured public URL (behind a proxy the Host header lies),
    /// else what this request says.
    private func calledURL(_ request: Request) -> String {
        let base = config.sending.publicURL.map(SendingConfig.trimmed)
            ?? "http://\(request.head.authority ?? "\(config.host):\(config.port)")"
        return base + request.uri.description
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await verifiedForm(request, context: context)
        guard let sid = form["MessageSid"] ?? form["SmsSid"], let word = form["MessageStatus"] ?? form["SmsStatus"] else {
            throw APIError.badRequest("missing_field", "MessageSid and MessageStatus are required", field: "MessageSid")
        }
        if let status = MessageStatus(twilio: word) {
            let effect = try await SendQueue(database: database).applyCallback(providerID: sid, status: status, errorCode: form["ErrorCode"])
            if case .moved(let status) = effect { metrics.messagesEntered([status: 1]) }
        }
        return Response(status: .noContent)
    }

    @Sendable func inbound(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await verifiedForm(request, context: context)
        guard let sid = form["MessageSid"] ?? form["SmsSid"], !sid.isEmpty else {
            throw APIError.badRequest("missing_field", "MessageSid is required", field: "MessageSid")
        }
        switch try await OptOutList(database: database).applyReply(messageID: sid, from: form["From"], body: form["Body"] ?? "") {
        case .optedOut(let result):
            if result.canceled > 0 { metrics.messagesEntered([.canceled: result.canceled]) }
            context.logger.info("opt-out by reply", metadata: ["canceled": "\(result.canceled)"])
        case .repeated:
            context.logger.info("inbound message already handled; ignored", metadata: ["sid": "\(sid)"])
        case .optedIn, .none:
            break
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/xml; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")))
    }
}
