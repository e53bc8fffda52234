import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// Posts each message as JSON to a URL the operator runs, signed so the receiver can trust it:
/// `X-Emmy-Signature` is hex HMAC-SHA256 over `timestamp + "." + body` with the shared secret.
/// The receiver answers 2xx with `{"id": "…"}`; it should drop a repeated `Idempotency-Key`.
public struct WebhookProvider: SMSProvider {
    public let name = "webhook"
    let url: String
    let secret: Data
    let http: ProviderHTTP

    public init(url: String, secret: String, connections: Int, timeoutSeconds: Double) {
        self.url = url
        self.secret = Data(secret.utf8)
        http = ProviderHTTP(connections: connections, timeoutSeconds: timeoutSeconds)
    }

    struct Payload: Encodable {
        var id: Int64
        var idempotency_key: String
        var to: String
        var body: String
        var segments: Int
    }

    /// The signature header's value for a body sent at `timestamp` (Unix seconds).
    public static func signature(timestamp: String, body: Data, secret: Data) -> String {
        var signed = Data(timestamp.utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(body)
        return HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret)).map { String(format: "%02x", $0) }.joined()
    }

    public func send(_ message: OutgoingMessage) async -> SendResult {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(Payload(id: message.id, idempotency_key: message.idempotencyKey, to: message.to,
                                                     body: message.body, segments: message.segments)) else {
            return .permanent(code: "encode", reason: "cannot encode the message as JSON")
        }
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: message.idempotencyKey)
        request.headers.add(name: "X-Emmy-Timestamp", value: timestamp)
        request.headers.add(name: "X-Emmy-Signature", value: Self.signature(timestamp: timestamp, body: body, secret: secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let answer: ProviderHTTP.Answer
        do {
            answer = try await http.execute(request)
        } catch {
            return error.result
        }
        switch answer.status {
        case 200..<300:
            struct Reply: Decodable { var id: String }
            guard let reply = try? JSONDecoder().decode(Reply.self, from: answer.body), !reply.id.isEmpty else {
                return .retryable(code: "bad_response", reason: "HTTP \(answer.status) without a JSON id", retryAfter: nil, ambiguous: true)
            }
            return .accepted(providerID: reply.id, status: .sent)
        case 408, 429, 500...:
            return .retryable(code: "http_\(answer.status)", reason: "HTTP \(answer.status)",
                              retryAfter: ProviderHTTP.retryAfter(answer.headers), ambiguous: false)
        default:
            let text = String(decoding: answer.body.prefix(200), as: UTF8.self)
            return .permanent(code: "http_\(answer.status)", reason: "HTTP \(answer.status): \(text)")
        }
    }

    public func shutdown() async {
        await http.shutdown()
    }
}
