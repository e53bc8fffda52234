import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// Token buckets per route and client. `/metrics`, `/health` and `/ready` are never limited:
/// the seed limited its own scrape endpoint until Prometheus reported the app down.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    let clock: @Sendable () -> Double

    init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.clock = clock
    }

    struct Decision {
        var allowed: Bool
        var remaining: Int
        /// Seconds until a token is available (when refused) or the bucket is full.
        var retryAfter: Int
        var reset: Int
    }

    func take(key: String, rate: ServerConfig.Rate) -> Decision {
        let now = clock()
        let refill = Double(rate.count) / rate.period
        return buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(rate.count), updated: now)
            bucket.tokens = min(Double(rate.count), bucket.tokens + (now - bucket.updated) * refill)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            if buckets.count > 100_000 { buckets = buckets.filter { now - $0.value.updated < 3600 } }
            let missing = Double(rate.count) - bucket.tokens
            return Decision(allowed: allowed, remaining: Int(bucket.tokens.rounded(.down)),
                            retryAfter: allowed ? 0 : Int(((1 - bucket.tokens) / refill).rounded(.up)),
                            reset: Int((missing / refill).rounded(.up)))
        }
    }
}

struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: RateLimiter
    let config: ServerConfig
    let metrics: AppMetrics

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        // The route the router matched, not the raw path: `/messages/` and `//messages` reach the
        // same handler, so they must spend the same tokens.
        guard request.method == .post, let route = context.endpointPath, let rate = config.rateLimits.rate(for: route) else {
            return try await next(request, context)
        }
        let client = ClientAddress.resolve(peer: context.peer, forwardedFor: request.headers[.xForwardedFor], trusted: config.trustedProxies)
        let decision = limiter.take(key: "\(route) \(client)", rate: rate)
        var headers = HTTPFields()
        headers[.rateLimitLimit] = "\(rate.count)"
        headers[.rateLimitRemaining] = "\(decision.remaining)"
        headers[.rateLimitReset] = "\(decision.reset)"
        guard decision.allowed else {
            metrics.rateLimited(route: route)
            headers[.retryAfter] = "\(max(1, decision.retryAfter))"
            var error = APIError(.tooManyRequests, code: "rate_limited",
                                 "at most \(rate.count) requests per \(Int(rate.period))s to \(route); retry after \(max(1, decision.retryAfter))s")
            error.headers = headers
            throw error
        }
        var response = try await next(request, context)
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// The client a request comes from: the peer, or the X-Forwarded-For entry a trusted proxy
/// added (the rightmost untrusted address, which a client cannot forge).
enum ClientAddress {
    static func resolve(peer: String, forwardedFor: String?, trusted: Set<String>) -> String {
        guard trusted.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last { !trusted.contains($0) } ?? peer
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!
}
