import EmmyApp
import Foundation

extension SpecValidation {
    /// What `emmyops serve` would refuse at start, reported with the spec's line instead.
    static func validateSending(_ app: AppConfig, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        let sending = app.sending
        func isHTTPURL(_ text: String) -> Bool {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return false }
            return true
        }
        switch app.provider {
        case .log:
            break
        case .twilio:
            if sending.twilio.from.isEmpty {
                error("app.provider.twilio.from", "the twilio provider needs a sender", "write an E.164 number (`+15005550006`) or a messaging service SID (`MG…`)")
            } else if !sending.twilio.from.hasPrefix("+"), !sending.twilio.from.hasPrefix("MG") {
                error("app.provider.twilio.from", "`\(sending.twilio.from)` is neither an E.164 number nor a messaging service SID", nil)
            }
            if !isHTTPURL(sending.twilio.baseURL) {
                error("app.provider.twilio.base_url", "`\(sending.twilio.baseURL)` is not an http(s) URL", nil)
            }
            if sending.publicURL == nil {
                warning("app.sending.public_url", "without a public URL Twilio sends no status callbacks, so messages stop at `sent`",
                        "set it to the https URL this server is reached at")
            }
        case .webhook:
            if !isHTTPURL(sending.webhook.url) {
                error("app.provider.webhook.url", sending.webhook.url.isEmpty ? "the webhook provider needs a URL" : "`\(sending.webhook.url)` is not an http(s) URL", nil)
            }
        }
        if let publicURL = sending.publicURL, !isHTTPURL(publicURL) {
            error("app.sending.public_url", "`\(publicURL)` is not an http(s) URL", nil)
        }
        if sending.backoffBaseSeconds > sending.backoffMaxSeconds {
            error("app.sending.backoff_base", "is longer than app.sending.backoff_max", nil)
        }
    }
}
