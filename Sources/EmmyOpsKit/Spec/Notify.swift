import EmmyApp
import Foundation
import Yams

// The `notify:` section, whole: the model, its schema (defaults read off the model), how it is
// read from the YAML tree, and its checks. A new key is added here and nowhere else.

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

// MARK: - Schema

extension SpecSchema {
    static let notify = SchemaField("notify", .object([
        SchemaField("receivers", .map(.object([
            SchemaField("slack", .object([
                SchemaField("webhook_url", .secretOrString, "Incoming-webhook URL, as a ${SECRET}.", required: true),
                SchemaField("channel", .string, "Channel override, e.g. #ops."),
            ]), "Post to Slack."),
            SchemaField("email", .object([
                SchemaField("to", .string, "Recipient address.", required: true),
                SchemaField("from", .string, "Sender address.", required: true),
                SchemaField("smarthost", .string, "SMTP host:port.", required: true),
                SchemaField("auth_username", .string, "SMTP user."),
                SchemaField("auth_password", .secret, "SMTP password, as a ${SECRET}."),
            ]), "Send email."),
            SchemaField("pagerduty", .object([
                SchemaField("routing_key", .secretOrString, "Events v2 routing key, as a ${SECRET}.", required: true),
            ]), "Page through PagerDuty."),
            SchemaField("webhook", .object([
                SchemaField("url", .secretOrString, "URL that receives Alertmanager's JSON.", required: true),
            ]), "POST to a webhook."),
        ])), "Named receivers, each with one or more channels."),
        SchemaField("routes", .object(Severity.allCases.map {
            SchemaField($0.rawValue, .list(.string), "Receivers for \($0.rawValue) alerts.")
        }), "Severity → receiver names."),
        SchemaField("group_by", .list(.string), "Labels alerts are grouped by (default \(Notify().groupBy.joined(separator: ", ")))."),
        SchemaField("group_wait", .duration, "Default \(Notify().groupWait)."),
        SchemaField("group_interval", .duration, "Default \(Notify().groupInterval)."),
        SchemaField("repeat_interval", .duration, "Default \(Notify().repeatInterval)."),
    ]), "Where alerts go.")
}

// MARK: - Reading

extension SpecBuilder {
    func notify(_ node: CheckedNode?) -> Notify {
        var notify = Notify()
        notify.receivers = R.pairs(R.value(node, "receivers")).map { name, value in
            var receiver = Receiver(name: name)
            if let slack = R.value(value, "slack"), let url = R.string(R.value(slack, "webhook_url")) {
                receiver.slack = .init(webhookURL: ConfigValue(parsing: url), channel: R.string(R.value(slack, "channel")))
            }
            if let email = R.value(value, "email"), let to = R.string(R.value(email, "to")),
               let from = R.string(R.value(email, "from")), let host = R.string(R.value(email, "smarthost")) {
                receiver.email = .init(to: to, from: from, smarthost: host,
                                       authUsername: R.string(R.value(email, "auth_username")),
                                       authPassword: R.string(R.value(email, "auth_password")).map(ConfigValue.init(parsing:)))
            }
            if let pagerduty = R.value(value, "pagerduty"), let key = R.string(R.value(pagerduty, "routing_key")) {
                receiver.pagerduty = .init(routingKey: ConfigValue(parsing: key))
            }
            if let webhook = R.value(value, "webhook"), let url = R.string(R.value(webhook, "url")) {
                receiver.webhook = .init(url: ConfigValue(parsing: url))
            }
            return receiver
        }
        for (key, value) in R.pairs(R.value(node, "routes")) {
            if let severity = Severity(rawValue: key) { notify.routes[severity] = strings(value) ?? [] }
        }
        set(&notify.groupBy, strings(R.value(node, "group_by")))
        set(&notify.groupWait, duration(R.value(node, "group_wait")))
        set(&notify.groupInterval, duration(R.value(node, "group_interval")))
        set(&notify.repeatInterval, duration(R.value(node, "repeat_interval")))
        return notify
    }
}

// MARK: - Validation

extension SpecValidation {
    /// Receivers that Alertmanager can use and routes that name them.
    static func validateNotify(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        let names = spec.notify.receivers.map(\.name)
        for receiver in spec.notify.receivers {
            let path = "notify.receivers.\(receiver.name)"
            if !isLabelValue(receiver.name) {
                error(path, "receiver name `\(receiver.name)` must use letters, digits, `-` and `_`", nil)
            }
            if receiver.name == AlertmanagerRenderer.incidentReceiver || receiver.name == AlertmanagerRenderer.nullReceiver {
                error(path, "`\(receiver.name)` is reserved for emmyops", "choose another name")
            }
            if receiver.slack == nil, receiver.email == nil, receiver.pagerduty == nil, receiver.webhook == nil {
                error(path, "receiver `\(receiver.name)` has no channel", "add slack, email, pagerduty or webhook")
            }
            let secretish: [(String, ConfigValue?)] = [("slack.webhook_url", receiver.slack?.webhookURL),
                                                        ("pagerduty.routing_key", receiver.pagerduty?.routingKey)]
            for case let (key, .literal(_)?) in secretish {
                warning("\(path).\(key)", "`\(key)` is written in the spec in clear", "store it as a secret and write `${\(key.split(separator: ".").last!.uppercased())}`")
            }
            if case .secret? = receiver.webhook?.url {
                error("\(path).webhook.url", "Alertmanager 0.25 cannot read a webhook URL from a secret file",
                      "write the URL itself, and keep credentials out of it")
            }
            if case .literal(let url)? = receiver.webhook?.url, URL(string: url)?.scheme == nil {
                error("\(path).webhook.url", "`\(url)` is not a URL", nil)
            }
        }
        for severity in Severity.allCases {
            for (index, name) in (spec.notify.routes[severity] ?? []).enumerated() where !names.contains(name) {
                let hint = Suggest.closest(to: name, in: names).map { "did you mean `\($0)`?" }
                    ?? (names.isEmpty ? "define it under notify.receivers" : "receivers are: \(names.joined(separator: ", "))")
                error("notify.routes.\(severity.rawValue)[\(index)]", "route names receiver `\(name)`, which does not exist", hint)
            }
        }
        if !spec.notify.groupBy.contains("alertname") && !spec.notify.groupBy.contains("...") {
            warning("notify.group_by", "grouping without `alertname` merges unrelated alerts into one notification", nil)
        }
    }
}
