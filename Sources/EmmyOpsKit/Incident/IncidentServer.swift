import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `incident serve`'s HTTP side: the Alertmanager webhook, `/metrics` and `/health`.
///
/// The webhook answers as soon as the notification is in the ledger; the engine's worker acts
/// afterwards. Refusals are JSON `{"error": …}` with a 4xx status, and none of them reaches
/// the ledger's runs: no token, a wrong token (401), a body over the cap (413), a body that is
/// not a version-4 payload (400), or one with no alert this spec renders (422).
public enum IncidentServer {
    /// Alertmanager batches at most a group's alerts; 1 MiB is far above a real body.
    public static let maxBodyBytes = 1 << 20

    public static func buildApplication(engine: IncidentEngine, token: String, host: String, port: Int, path: String,
                                        logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        let bearer = BearerCheck(token: token)
        let metrics = engine.metrics
        let ledger = engine.ledger
        router.post(RouterPath(path)) { request, _ -> Response in
            guard bearer.accepts(request.headers[.authorization]) else {
                metrics.notification("unauthorized")
                return refusal(.unauthorized, "missing or wrong bearer token", extra: [.wwwAuthenticate: "Bearer"])
            }
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maxBodyBytes)
            } catch {
                metrics.notification("rejected")
                return refusal(.contentTooLarge, "body larger than \(maxBodyBytes) bytes")
            }
            let payload: AlertmanagerPayload
            do {
                payload = try AlertmanagerPayload.parse(Data(body.readableBytesView))
            } catch {
                metrics.notification("rejected")
                return refusal(.badRequest, "\(error)")
            }
            do {
                let receipt = try await engine.receive(payload)
                return json(.accepted, receipt)
            } catch let refused as IncidentEngine.IntakeRefusal {
                return refusal(.unprocessableContent, refused.description)
            } catch {
                // The ledger could not record it: 5xx, so Alertmanager sends it again.
                logger.error("cannot record a notification", metadata: ["error": "\(error)"])
                return refusal(.internalServerError, "cannot record the notification")
            }
        }
        router.get("/metrics") { _, _ -> Response in
            let frozen = ((try? ledger.freezes(open: true)) ?? []).map { (kind: $0.kind, host: $0.host) }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(frozen: frozen))))
        }
        router.get("/health") { _, _ -> Response in
            json(.ok, ["status": "ok"])
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "emmyops-incident"),
                           logger: logger)
    }

    private static func refusal(_ status: HTTPResponse.Status, _ message: String, extra: HTTPFields = [:]) -> Response {
        var response = json(status, ["error": message])
        for field in extra { response.headers.append(field) }
        return response
    }

    private static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let data = (try? JSONEncoder.sorted.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Compares `Authorization: Bearer …` with the secret in constant time: both sides are hashed
/// first, so neither the token's length nor the position of the first wrong byte shows in timing.
public struct BearerCheck: Sendable {
    private let expected: [UInt8]

    public init(token: String) { expected = Array(SHA256.hash(data: Data(token.utf8))) }

    public func accepts(_ header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(SHA256.hash(data: Data(header.dropFirst(7).utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }
}
