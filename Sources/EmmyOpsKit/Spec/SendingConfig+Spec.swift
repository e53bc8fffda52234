import EmmyApp
import Foundation
import Yams

// The `app.provider` and `app.sending` sections, whole: their schema (defaults read off the
// model), how they are read from the YAML tree, and their checks. The model is EmmyApp's
// `SendingConfig`, because the server runs on it; a new key of these sections is added to that
// model and here, nowhere else.

// MARK: - Schema

extension SpecSchema {
    /// `app.provider`: which provider sends, and its settings.
    static let provider = SchemaField("provider", .object([
        SchemaField("kind", .enumeration(ProviderKind.allCases.map(\.rawValue)), "log (sandbox), twilio or webhook."),
        SchemaField("log", .object([
            SchemaField("path", .string, "JSON-lines file each message is appended to; relative to the data directory (default \(SendingConfig().log.path))."),
        ]), "The sandbox provider: nothing leaves the machine; every message is reported delivered."),
        SchemaField("twilio", .object([
            SchemaField("account_sid", .secretOrString, "Account SID (default \(SendingConfig().twilio.accountSID))."),
            SchemaField("auth_token", .secret, "Auth token, as a ${SECRET} reference (default \(SendingConfig().twilio.authToken)); also verifies callbacks."),
            SchemaField("from", .string, "Sender: an E.164 number or a messaging service SID (MG…)."),
            SchemaField("base_url", .string, "API base URL (default \(SendingConfig().twilio.baseURL))."),
        ]), "Twilio's Messages API."),
        SchemaField("webhook", .object([
            SchemaField("url", .string, "URL each message is POSTed to as signed JSON."),
            SchemaField("secret", .secret, "HMAC-SHA256 key for X-Emmy-Signature, as a ${SECRET} reference (default \(SendingConfig().webhook.secret))."),
        ]), "A signed JSON webhook of your own."),
    ]), "SMS provider settings.")

    /// `app.sending`: the worker pool, retries and throttle.
    static let sending = SchemaField("sending", .object([
        SchemaField("workers", .integer(min: 1, max: 512), "Messages sent at the same time (default \(SendingConfig().workers))."),
        SchemaField("max_attempts", .integer(min: 1, max: 100), "Attempts per message before it is failed (default \(SendingConfig().maxAttempts))."),
        SchemaField("max_age", .duration, "A message still unsent this long after it was queued is failed (default \(Int(SendingConfig().maxAgeSeconds / 3600))h)."),
        SchemaField("segments_per_second", .integer(min: 0, max: 100_000), "Per-sender throttle across all workers; 0 is off (default \(Int(SendingConfig().segmentsPerSecond)); Twilio long codes: 1)."),
        SchemaField("backoff_base", .duration, "First retry waits up to this long, doubling each time, with full jitter (default \(defaultDuration(SendingConfig().backoffBaseSeconds)))."),
        SchemaField("backoff_max", .duration, "Longest retry wait unless the provider's Retry-After asks for more (default \(defaultDuration(SendingConfig().backoffMaxSeconds)))."),
        SchemaField("request_timeout", .duration, "Timeout of one provider request (default \(defaultDuration(SendingConfig().requestTimeoutSeconds)))."),
        SchemaField("public_url", .string, "This server's public base URL: Twilio's StatusCallback and the URL callbacks are signed over."),
    ]), "How queued messages are sent.")

    /// A default the server keeps in seconds, written the way the spec writes durations.
    private static func defaultDuration(_ seconds: Double) -> PromDuration {
        PromDuration(milliseconds: Int64((seconds * 1000).rounded()))
    }
}

// MARK: - Reading

extension SpecBuilder {
    func sending(provider: CheckedNode?, sending node: CheckedNode?) -> SendingConfig {
        var config = SendingConfig()
        set(&config.provider, R.string(R.value(provider, "kind")).flatMap(ProviderKind.init(rawValue:)))
        set(&config.log.path, R.string(R.value(R.value(provider, "log"), "path")))
        let twilio = R.value(provider, "twilio")
        set(&config.twilio.accountSID, R.string(R.value(twilio, "account_sid")).map(ConfigValue.init(parsing:)))
        set(&config.twilio.authToken, R.string(R.value(twilio, "auth_token")).map(ConfigValue.init(parsing:)))
        set(&config.twilio.from, R.string(R.value(twilio, "from")))
        set(&config.twilio.baseURL, R.string(R.value(twilio, "base_url")))
        let webhook = R.value(provider, "webhook")
        set(&config.webhook.url, R.string(R.value(webhook, "url")))
        set(&config.webhook.secret, R.string(R.value(webhook, "secret")).map(ConfigValue.init(parsing:)))
        set(&config.workers, R.int(R.value(node, "workers")))
        set(&config.maxAttempts, R.int(R.value(node, "max_attempts")))
        set(&config.maxAgeSeconds, duration(R.value(node, "max_age")).map(\.seconds))
        set(&config.segmentsPerSecond, R.int(R.value(node, "segments_per_second")).map(Double.init))
        set(&config.backoffBaseSeconds, duration(R.value(node, "backoff_base")).map(\.seconds))
        set(&config.backoffMaxSeconds, duration(R.value(node, "backoff_max")).map(\.seconds))
        set(&config.requestTimeoutSeconds, duration(R.value(node, "request_timeout")).map(\.seconds))
        config.publicURL = R.string(R.value(node, "public_url"))
        return config
    }
}

// MARK: - Validation

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
