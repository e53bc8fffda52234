import EmmyApp

/// The `notify:` section: where alerts go.
public struct Notify: Sendable, Hashable {
    public var receivers: [Receiver]
    /// Severity → receiver names, in the order written.
    public var routes: [Severity: [String]]
    public var groupBy: [String]
    public var groupWait: PromDuration
    public var groupInterval: PromDuration
    public var repeatInterval: PromDuration

    public init(
        receivers: [Receiver] = [],
        routes: [Severity: [String]] = [:],
        groupBy: [String] = ["alertname", "service"],
        groupWait: PromDuration = .seconds(30),
        groupInterval: PromDuration = .minutes(5),
        repeatInterval: PromDuration = .hours(4)
    ) {
        self.receivers = receivers
        self.routes = routes
        self.groupBy = groupBy
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.repeatInterval = repeatInterval
    }
}

/// A named notification target with one or more channels.
public struct Receiver: Sendable, Hashable {
    public var name: String
    public var slack: Slack?
    public var email: Email?
    public var pagerduty: PagerDuty?
    public var webhook: Webhook?

    public init(name: String, slack: Slack? = nil, email: Email? = nil, pagerduty: PagerDuty? = nil, webhook: Webhook? = nil) {
        self.name = name
        self.slack = slack
        self.email = email
        self.pagerduty = pagerduty
        self.webhook = webhook
    }

    public struct Slack: Sendable, Hashable {
        public var webhookURL: ConfigValue
        public var channel: String?
        public init(webhookURL: ConfigValue, channel: String? = nil) {
            self.webhookURL = webhookURL
            self.channel = channel
        }
    }

    public struct Email: Sendable, Hashable {
        public var to: String
        public var from: String
        public var smarthost: String
        public var authUsername: String?
        public var authPassword: ConfigValue?
        public init(to: String, from: String, smarthost: String, authUsername: String? = nil, authPassword: ConfigValue? = nil) {
            self.to = to
            self.from = from
            self.smarthost = smarthost
            self.authUsername = authUsername
            self.authPassword = authPassword
        }
    }

    public struct PagerDuty: Sendable, Hashable {
        public var routingKey: ConfigValue
        public init(routingKey: ConfigValue) { self.routingKey = routingKey }
    }

    public struct Webhook: Sendable, Hashable {
        public var url: ConfigValue
        public init(url: ConfigValue) { self.url = url }
    }
}
