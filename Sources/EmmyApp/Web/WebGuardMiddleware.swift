import Foundation
import HTTPTypes
import Hummingbird

/// Checks browser form posts before auth runs: a form (no `Authorization` header) must carry
/// the CSRF token that matches its cookie, and when auth is on, a signed-in session cookie
/// stands in for the bearer token. API clients that send a bearer token are not affected.
struct WebGuardMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: WebPages
    var secret: WebSecret { pages.secret }
    var authRequired: Bool { pages.config.authRequired }

    /// Multipart forms whose handler checks the CSRF field itself, once the body is spooled.
    static let multipartForms: Set<String> = ["/preview", "/api/preview"]
    /// Forms that work without a session: signing in.
    static let publicForms: Set<String> = ["/login"]
    static let maxFormBytes = 1 << 20
    /// Provider callbacks (Twilio posts urlencoded forms) carry the provider's signature, which
    /// their controller checks; they never come from a browser session.
    static let exemptPrefixes = ["/webhooks/"]

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard request.method == .post, request.headers[.authorization] == nil,
              !Self.exemptPrefixes.contains(where: request.uri.path.hasPrefix) else { return try await next(request, context) }
        var request = request
        var context = context
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let signedIn = !authRequired || secret.isValidSession(request.cookies[WebSecret.sessionCookie]?.value)
        if type.hasPrefix("application/x-www-form-urlencoded") {
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: Self.maxFormBytes)
            } catch {
                throw APIError(.contentTooLarge, code: "form_too_large", "the form is larger than \(Self.maxFormBytes) bytes")
            }
            let fields = FormFields(String(buffer: body))
            guard secret.verify(token: fields["csrf"], cookie: request.cookies[WebSecret.csrfCookie]?.value) else {
                // A browser gets a page (with a fresh token) rather than JSON.
                guard Self.wantsHTML(request) else { throw Self.csrfFailure }
                return try pages.error(Self.csrfFailure, request: request, context: context)
            }
            context.webAuthenticated = signedIn || Self.publicForms.contains(request.uri.path)
            // A browser whose session ended (or the server restarted) is sent to sign in again.
            if !context.webAuthenticated, Self.wantsHTML(request) { return WebPages.redirect("/login") }
        } else if type.hasPrefix("multipart/form-data"), Self.multipartForms.contains(request.uri.path) {
            context.webAuthenticated = signedIn
        }
        return try await next(request, context)
    }

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") ?? false
    }

    static let csrfFailure = APIError(.forbidden, code: "csrf_failed",
                                      "the form's security token is missing or stale (or it came from another site); reload the page and try again",
                                      field: "csrf")
}

/// Fields of an `application/x-www-form-urlencoded` body; the first value of a repeated name wins.
struct FormFields: Sendable {
    private var values: [String: String] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), values[name] == nil else { continue }
            values[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
    }

    subscript(name: String) -> String? { values[name] }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
