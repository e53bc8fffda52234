import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// When auth is on, one rule for reads and writes: every request needs
/// `Authorization: Bearer <token>` matching an unrevoked token (stored as SHA-256 hashes only),
/// or a signed-in browser session. A session counts for reads; for writes only together with the
/// form's CSRF token (`webAuthenticated`, set by WebGuardMiddleware). Open to all: the probes
/// (`/health`, `/ready`, `/metrics`: supervisors, deploy gates and Prometheus carry no token),
/// signing in and its stylesheet, and provider webhooks (signed by the provider instead).
/// A page asked for without a session redirects to `/login`; anything else gets 401.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: any AppStore
    let required: Bool
    let secret: WebSecret
    /// Routes (as the router matched them) anyone may call.
    let publicRoutes: Set<String>

    init(database: any AppStore, required: Bool, secret: WebSecret, probes: AppPaths) {
        self.database = database
        self.required = required
        self.secret = secret
        publicRoutes = Set([probes.health, probes.ready, probes.metrics].map { RouterPath($0).description } + ["/login", "/static/{name}", "/openapi.json"])
    }

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        let route = context.endpointPath ?? request.uri.path
        guard required, !context.webAuthenticated, !publicRoutes.contains(route), !route.hasPrefix("/webhooks/") else {
            return try await next(request, context)
        }
        let reading = [.get, .head].contains(request.method)
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            if reading, secret.isValidSession(request.cookies[WebSecret.sessionCookie]?.value) { return try await next(request, context) }
            if reading, WebController.pages.contains(route) { return WebPages.redirect("/login") }
            var error = APIError(.unauthorized, code: "unauthorized", "send `Authorization: Bearer <token>`; create one with `emmyops token create`")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard try await TokenStore(database: database).isValid(token) else {
            var error = APIError(.unauthorized, code: "invalid_token", "the token is unknown or revoked")
            error.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            throw error
        }
        return try await next(request, context)
    }
}

/// API tokens: created once (the plain token is shown only then), listed, revoked.
public struct TokenStore: Sendable {
    let store: any AppStore

    public init(database: any AppStore) { self.store = database }

    public typealias Token = StoredToken

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Creates a token and returns its plain text, which is not stored anywhere.
    public func create(name: String) async throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let token = "emmy_" + bytes.map { String(format: "%02x", $0) }.joined()
        try await store.insertToken(id: UUID().uuidString.lowercased(), name: name, hash: Self.hash(token), createdAt: Date())
        return token
    }

    public func list() async throws -> [Token] {
        try await store.tokens()
    }

    /// Revokes by name or id; returns false when none matched.
    public func revoke(_ nameOrID: String) async throws -> Bool {
        try await store.revokeToken(nameOrID: nameOrID, now: Date())
    }

    func isValid(_ token: String) async throws -> Bool {
        try await store.isActiveToken(hash: Self.hash(token))
    }
}
