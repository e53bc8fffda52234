import Foundation
import HTTPTypes
import Hummingbird

/// What every page needs: its template, the browser's CSRF token, the session, and redirects.
struct WebPages: Sendable {
    let templates: WebTemplates
    let secret: WebSecret
    let config: ServerConfig

    /// The request came through TLS at a proxy we trust (cookies then get `Secure`).
    func isTLS(_ request: Request, context: AppRequestContext) -> Bool {
        config.trustedProxies.contains(context.peer) && request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil, request: Request, context: AppRequestContext) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: isTLS(request, context: context), httpOnly: true, sameSite: .strict)
    }

    func signedIn(_ request: Request) -> Bool {
        !config.authRequired || secret.isValidSession(request.cookies[WebSecret.sessionCookie]?.value)
    }

    /// Pages need a session when auth is on; otherwise the browser is sent to sign in.
    func requireSession(_ request: Request) -> Response? {
        signedIn(request) ? nil : Self.redirect("/login")
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// Renders `name` with `values` plus the shared keys (`csrf`, `signedIn`, `title`), setting
    /// the CSRF cookie when the browser has none yet.
    func render(_ name: String, title: String, _ values: [String: Any] = [:], status: HTTPResponse.Status = .ok,
                request: Request, context: AppRequestContext) throws -> Response {
        let existing = request.cookies[WebSecret.csrfCookie]?.value
        let cookieValue = existing.flatMap { $0.count >= 32 ? $0 : nil } ?? WebSecret.randomToken()
        var values = values
        values["title"] = title
        values["csrf"] = secret.csrfToken(for: cookieValue)
        values["signedIn"] = config.authRequired && signedIn(request)
        var response = try templates.page(name, values, status: status)
        if existing != cookieValue {
            response.setCookie(cookie(WebSecret.csrfCookie, cookieValue, request: request, context: context))
        }
        return response
    }

    /// An error as a page (for browsers) rather than JSON.
    func error(_ error: APIError, request: Request, context: AppRequestContext) throws -> Response {
        try render("error", title: "Something needs fixing", ["error": error.message], status: error.status, request: request, context: context)
    }
}
