import Crypto
import Foundation
import NIOConcurrencyHelpers

/// CSRF tokens and browser sessions.
///
/// CSRF: every browser gets a random `emmy_csrf` cookie; forms carry HMAC(secret, cookie), so
/// another site can neither read nor forge the field. The secret lives only in this process:
/// a restart just means reloading the form.
///
/// Sessions (only when auth is on): signing in with an API token creates a random session id,
/// kept here with its expiry, in an HttpOnly SameSite=Strict cookie. The API keeps bearer tokens.
final class WebSecret: Sendable {
    static let csrfCookie = "emmy_csrf"
    static let sessionCookie = "emmy_session"
    static let sessionLifetime: TimeInterval = 12 * 3600

    /// The HMAC key's bytes (SymmetricKey itself is not Sendable).
    private let key: [UInt8]
    private let sessions = NIOLockedValueBox<[String: Date]>([:])

    init(key: [UInt8]? = nil) {
        var generator = SystemRandomNumberGenerator()
        self.key = key ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The form token for a browser's CSRF cookie.
    func csrfToken(for cookie: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(cookie.utf8), using: SymmetricKey(data: key))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Constant-time check of a submitted token against the cookie.
    func verify(token: String?, cookie: String?) -> Bool {
        guard let token, let cookie, cookie.count >= 32 else { return false }
        let expected = Array(csrfToken(for: cookie).utf8), given = Array(token.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func createSession(now: Date = Date()) -> String {
        let id = Self.randomToken()
        sessions.withLockedValue { sessions in
            sessions = sessions.filter { $0.value > now }
            sessions[id] = now.addingTimeInterval(Self.sessionLifetime)
        }
        return id
    }

    func isValidSession(_ id: String?, now: Date = Date()) -> Bool {
        guard let id else { return false }
        return sessions.withLockedValue { ($0[id] ?? .distantPast) > now }
    }

    func endSession(_ id: String?) {
        guard let id else { return }
        _ = sessions.withLockedValue { $0.removeValue(forKey: id) }
    }
}
