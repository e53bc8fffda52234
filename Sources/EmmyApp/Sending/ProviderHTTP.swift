import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What the HTTP providers share: one client, the answer read whole, and failures sorted
/// into retryable or not.
struct ProviderHTTP: Sendable {
    let client: HTTPClient
    let timeout: TimeAmount

    init(connections: Int, timeoutSeconds: Double) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        configuration.timeout = .init(connect: .seconds(10), read: .milliseconds(Int64(timeoutSeconds * 1000)))
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        timeout = .milliseconds(Int64(timeoutSeconds * 1000))
    }

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    enum Failure: Error {
        /// The request may have reached the server (a timeout or a dropped connection after sending).
        case ambiguous(String)
        /// It certainly did not (connection refused, connect timeout).
        case notSent(String)

        /// Either way it is worth retrying; an ambiguous one is looked up first.
        var result: SendResult {
            switch self {
            case .ambiguous(let reason): .retryable(code: "timeout", reason: reason, retryAfter: nil, ambiguous: true)
            case .notSent(let reason): .retryable(code: "connect", reason: reason, retryAfter: nil, ambiguous: false)
            }
        }
    }

    func execute(_ request: HTTPClientRequest) async throws(Failure) -> Answer {
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
        } catch let error as HTTPClientError where error == .connectTimeout {
            throw .notSent("connect timeout")
        } catch let error as IOError where error.errnoCode == ECONNREFUSED {
            throw .notSent("cannot connect: \(error)")
        } catch {
            throw .ambiguous("\(error)")
        }
    }

    /// `Retry-After` in seconds (a number or an HTTP date).
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        return DateText.httpDate(value).map { max(0, $0.timeIntervalSinceNow) }
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
