import Foundation
import HTTPTypes
import Hummingbird

/// The one CSRF rule for every state-changing request (anything but GET, HEAD and OPTIONS).
///
/// A request a web page could have made without our help is refused (403, `csrf_failed`,
/// naming the reason) unless it carries the page's CSRF token or an `Authorization` header:
/// - it says it came from another origin (`Sec-Fetch-Site: cross-site|same-site`, or an
///   `Origin` that is not this server), whatever its body; or
/// - its body is urlencoded (our web forms, which always carry the token); or
/// - it comes from a browser (`Origin`, any `Sec-Fetch-*`, `Referer` or `Cookie` header) and its
///   content type is one an HTML form or a no-CORS `fetch` can send cross-origin without a
///   preflight: `text/plain` or `multipart/form-data`. Every current browser sends `Origin`
///   (at least `null`) on a POST, so this also holds where `Sec-Fetch-Site` is not sent (plain
///   http off loopback). A request with none of those headers is a script such as the seed's
///   `curl -F csvFile=@… /upload`, which no web page can make a browser send.
///
/// A page cannot add `Authorization` (or any other non-simple header) to a cross-origin request
/// without a CORS preflight, which EmmyApp never grants; so a request that has one is an API
/// client, whose token AuthMiddleware checks when auth is on. Provider webhooks are signed and
/// checked by their controller.
///
/// The token travels as the `csrf` field of a urlencoded form (checked here), the `csrf` field of
/// the preview's multipart form (checked by PreviewController once the body is spooled), or an
/// `X-CSRF-Token` header. A form with a valid token and, when auth is on, a signed-in session
/// stands in for the bearer token (`webAuthenticated`).
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
    static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]
    /// Content types a cross-origin page can send without a preflight (the CORS "simple" ones).
    static let simpleTypes = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard !Self.safeMethods.contains(request.method), request.headers[.authorization] == nil,
              !Self.exemptPrefixes.contains(where: request.uri.path.hasPrefix) else { return try await next(request, context) }
        let route = context.endpointPath ?? request.uri.path
        var request = request
        var context = context
        let signedIn = !authRequired || secret.isValidSession(request.cookies[WebSecret.sessionCookie]?.value)
        if let token = request.headers[.csrfToken] {
            guard secret.verify(token: token, cookie: request.cookies[WebSecret.csrfCookie]?.value) else {
                throw Self.refusal("the X-CSRF-Token header does not match this browser's token")
            }
            context.webAuthenticated = signedIn
            return try await next(request, context)
        }
        let type = Self.mediaType(request.headers[.contentType])
        if type == "application/x-www-form-urlencoded" {
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: Self.maxFormBytes)
            } catch {
                throw APIError(.contentTooLarge, code: "form_too_large", "the form is larger than \(Self.maxFormBytes) bytes")
            }
            let fields = FormFields(String(buffer: body))
            guard secret.verify(token: fields["csrf"], cookie: request.cookies[WebSecret.csrfCookie]?.value) else {
                let failure = Self.refusal(Self.crossOrigin(request) ?? "the form's security token is missing or stale")
                // A browser gets a page (with a fresh token) rather than JSON.
                guard Self.wantsHTML(request) else { throw failure }
                return try pages.error(failure, request: request, context: context)
            }
            context.webAuthenticated = signedIn || Self.publicForms.contains(route)
            // A browser whose session ended (or the server restarted) is sent to sign in again.
            if !context.webAuthenticated, Self.wantsHTML(request) { return WebPages.redirect("/login") }
            return try await next(request, context)
        }
        if let reason = Self.crossOrigin(request) { throw Self.refusal(reason) }
        if type == "multipart/form-data", Self.multipartForms.contains(route) {
            context.webAuthenticated = signedIn
            return try await next(request, context)
        }
        if Self.simpleTypes.contains(type), Self.fromBrowser(request) {
            throw Self.refusal("a \(type) body without the page's CSRF token; API clients send `Authorization: Bearer <token>`")
        }
        // An opaque origin may be a sandboxed frame of any site, and no form of ours comes this way.
        if request.headers[.origin] == "null" { throw Self.refusal("a request from an opaque origin (Origin: null)") }
        return try await next(request, context)
    }

    /// Why the browser says this request came from another origin, or nil when it does not.
    /// `Origin: null` proves nothing either way: our own pages send it too (their
    /// `Referrer-Policy: no-referrer` hides the origin of their form posts), so such a request is
    /// judged by its token.
    static func crossOrigin(_ request: Request) -> String? {
        if let site = request.headers[.secFetchSite]?.lowercased(), site == "cross-site" || site == "same-site" {
            return "a request from another origin (Sec-Fetch-Site: \(site))"
        }
        if let origin = request.headers[.origin], origin != "null", !isSameOrigin(origin, authority: request.head.authority) {
            return "a request from another origin (Origin: \(origin.prefix(100)))"
        }
        return nil
    }

    /// Whether `Origin` names this server. Only host and port are compared: behind a TLS proxy
    /// the browser's scheme is https while EmmyApp hears http.
    static func isSameOrigin(_ origin: String, authority: String?) -> Bool {
        guard let authority = authority?.lowercased(), !authority.isEmpty else { return false }
        let origin = origin.lowercased()
        for (scheme, port) in [("http://", ":80"), ("https://", ":443")] where origin.hasPrefix(scheme) {
            let host = String(origin.dropFirst(scheme.count))
            return host == authority || host + port == authority || host == authority + port
        }
        return false
    }

    /// Whether a browser sent this: browsers add these headers themselves and scripts do not.
    static func fromBrowser(_ request: Request) -> Bool {
        request.headers[.origin] != nil || request.headers[.referer] != nil || request.headers[.cookie] != nil
            || request.headers.contains { $0.name.canonicalName.hasPrefix("sec-fetch-") }
    }

    /// `text/plain; charset=utf-8` → `text/plain`.
    static func mediaType(_ contentType: String?) -> String {
        (contentType ?? "").split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") ?? false
    }

    static func refusal(_ reason: String) -> APIError {
        APIError(.forbidden, code: csrfFailure.code, "refused \(reason) (it may have come from another site); reload the page and try again",
                 field: "csrf")
    }

    static let csrfFailure = APIError(.forbidden, code: "csrf_failed",
                                      "the form's security token is missing or stale (or it came from another site); reload the page and try again",
                                      field: "csrf")
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
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
