import EmmyApp
import Yams

extension SpecBuilder {
    func sending(provider: Node?, sending node: Node?) -> SendingConfig {
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
