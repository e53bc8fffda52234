import Crypto
import Foundation

/// Twilio's request signature (`X-Twilio-Signature`): Base64 HMAC-SHA1, keyed with the auth
/// token, over the full URL Twilio called followed by each form parameter's name and value,
/// names sorted.
public enum TwilioSignature {
    public static func compute(url: String, parameters: [(String, String)], authToken: String) -> String {
        var text = url
        for (name, value) in parameters.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            text += name + value
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// True when `signature` matches the URL as given or with/without its default port
    /// (Twilio signs whichever form it called). Compared in constant time.
    public static func isValid(_ signature: String, url: String, parameters: [(String, String)], authToken: String) -> Bool {
        var valid = false
        for candidate in urlVariants(url) {
            // No short-circuit: every variant is checked, so timing says nothing about which matched.
            valid = constantTimeEqual(compute(url: candidate, parameters: parameters, authToken: authToken), signature) || valid
        }
        return valid
    }

    static func urlVariants(_ url: String) -> [String] {
        guard var parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else { return [url] }
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        guard let defaultPort else { return [url] }
        if parts.port == defaultPort {
            parts.port = nil
        } else if parts.port == nil {
            parts.port = defaultPort
        } else {
            return [url]
        }
        return [url, parts.string ?? url]
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
