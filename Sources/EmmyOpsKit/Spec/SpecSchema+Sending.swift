import EmmyApp

extension SpecSchema {
    /// `app.provider`: which provider sends, and its settings.
    static let provider = SchemaField("provider", .object([
        SchemaField("kind", .enumeration(ProviderKind.allCases.map(\.rawValue)), "log (sandbox), twilio or webhook."),
        SchemaField("log", .object([
            SchemaField("path", .string, "JSON-lines file each message is appended to; relative to the data directory (default sent.jsonl)."),
        ]), "The sandbox provider: nothing leaves the machine; every message is reported delivered."),
        SchemaField("twilio", .object([
            SchemaField("account_sid", .secretOrString, "Account SID (default ${TWILIO_ACCOUNT_SID})."),
            SchemaField("auth_token", .secret, "Auth token, as a ${SECRET} reference (default ${TWILIO_AUTH_TOKEN}); also verifies callbacks."),
            SchemaField("from", .string, "Sender: an E.164 number or a messaging service SID (MG…)."),
            SchemaField("base_url", .string, "API base URL (default https://api.twilio.com)."),
        ]), "Twilio's Messages API."),
        SchemaField("webhook", .object([
            SchemaField("url", .string, "URL each message is POSTed to as signed JSON."),
            SchemaField("secret", .secret, "HMAC-SHA256 key for X-Emmy-Signature, as a ${SECRET} reference (default ${EMMY_WEBHOOK_SECRET})."),
        ]), "A signed JSON webhook of your own."),
    ]), "SMS provider settings.")

    /// `app.sending`: the worker pool, retries and throttle.
    static let sending = SchemaField("sending", .object([
        SchemaField("workers", .integer(min: 1, max: 512), "Messages sent at the same time (default 8)."),
        SchemaField("max_attempts", .integer(min: 1, max: 100), "Attempts per message before it is failed (default 8)."),
        SchemaField("max_age", .duration, "A message still unsent this long after it was queued is failed (default 24h)."),
        SchemaField("segments_per_second", .integer(min: 0, max: 100_000), "Per-sender throttle across all workers; 0 is off (default 0; Twilio long codes: 1)."),
        SchemaField("backoff_base", .duration, "First retry waits up to this long, doubling each time, with full jitter (default 1s)."),
        SchemaField("backoff_max", .duration, "Longest retry wait unless the provider's Retry-After asks for more (default 5m)."),
        SchemaField("request_timeout", .duration, "Timeout of one provider request (default 30s)."),
        SchemaField("public_url", .string, "This server's public base URL: Twilio's StatusCallback and the URL callbacks are signed over."),
    ]), "How queued messages are sent.")
}
