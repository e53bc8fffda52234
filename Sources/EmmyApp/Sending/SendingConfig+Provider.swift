import Foundation

extension SendingConfig {
    /// The path Twilio posts status callbacks to.
    public static let statusCallbackPath = "/webhooks/twilio/status"

    /// Builds the configured provider, reading secrets from `environment`.
    public func makeProvider(dataDirectory: String, environment: [String: String]) throws -> any SMSProvider {
        switch provider {
        case .log:
            let path = log.path.hasPrefix("/") ? log.path : (dataDirectory as NSString).appendingPathComponent(log.path)
            return try LogProvider(path: path)
        case .twilio:
            guard !twilio.from.isEmpty else {
                throw SendingConfigError(description: "app.provider.twilio.from is required (a number in E.164 or a messaging service SID)")
            }
            let callback = publicURL.map { Self.trimmed($0) + Self.statusCallbackPath }
            return TwilioProvider(accountSID: try twilio.accountSID.resolve(in: environment), authToken: try twilio.authToken.resolve(in: environment),
                                  from: twilio.from, baseURL: twilio.baseURL, statusCallback: callback,
                                  connections: workers, timeoutSeconds: requestTimeoutSeconds)
        case .webhook:
            guard !webhook.url.isEmpty else { throw SendingConfigError(description: "app.provider.webhook.url is required") }
            return WebhookProvider(url: webhook.url, secret: try webhook.secret.resolve(in: environment),
                                   connections: workers, timeoutSeconds: requestTimeoutSeconds)
        }
    }

    static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
