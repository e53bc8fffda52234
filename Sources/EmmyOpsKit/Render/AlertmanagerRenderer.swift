import EmmyApp

/// Renders `alertmanager.yml` and the route expectations it was built from.
public enum AlertmanagerRenderer {
    /// Receiver for alerts no route claims; it notifies nobody.
    public static let nullReceiver = "emmyops-null"
    /// Receiver that forwards every alert to emmyops' own incident webhook.
    public static let incidentReceiver = "emmyops-incident"

    /// One expectation: an alert with these labels reaches exactly these receivers, in order.
    public struct RouteExpectation: Sendable, Hashable {
        public var labels: [String: String]
        public var receivers: [String]
    }

    /// What each severity must reach: the incident webhook (when set), then the spec's receivers.
    public static func expectations(_ spec: Spec) -> [RouteExpectation] {
        Severity.allCases.map { severity in
            var receivers: [String] = []
            if spec.incident.webhook != nil { receivers.append(incidentReceiver) }
            receivers += uniqued(spec.notify.routes[severity] ?? [])
            if receivers.isEmpty { receivers = [nullReceiver] }
            return RouteExpectation(labels: ["severity": severity.rawValue, "service": spec.app.name], receivers: receivers)
        }
    }

    public static func render(_ spec: Spec) -> [RenderedFile] {
        [
            RenderedFile(path: OutputPath.alertmanagerConfig, contents: config(spec)),
            RenderedFile(path: OutputPath.alertmanagerRoutes, contents: expectationsDocument(spec)),
        ]
    }

    static func config(_ spec: Spec) -> String {
        let notify = spec.notify
        var routes: [YAMLValue] = []
        if spec.incident.webhook != nil {
            routes.append(.object(("receiver", .string(incidentReceiver)),
                                  ("matchers", [.string("severity=~\"\(Severity.allCases.map(\.rawValue).joined(separator: "|"))\"")]),
                                  ("continue", .bool(true))))
        }
        for severity in Severity.allCases {
            for name in uniqued(notify.routes[severity] ?? []) {
                routes.append(.object(("receiver", .string(name)),
                                      ("matchers", [.string("severity=\"\(severity.rawValue)\"")]),
                                      ("continue", .bool(true))))
            }
        }
        var receivers: [YAMLValue] = [.object(("name", .string(nullReceiver)))]
        if let webhook = spec.incident.webhook {
            // `incident serve` refuses unauthenticated posts: Alertmanager reads the same token file.
            let auth: YAMLValue? = spec.incident.tokenFile.map { file in
                YAMLValue.object(("authorization", YAMLValue.object(("type", .string("Bearer")), ("credentials_file", .string(file)))))
            }
            receivers.append(.object(("name", .string(incidentReceiver)),
                                     ("webhook_configs", [.object(("url", .string(webhook)), ("send_resolved", .bool(true)),
                                                                  ("http_config", auth))])))
        }
        receivers += notify.receivers.map { receiver($0, secretsDir: spec.monitoring.alertmanager.secretsDir) }
        let doc: YAMLValue = .object(
            ("global", .object(("resolve_timeout", .string("5m")))),
            ("route", .object(
                ("receiver", .string(nullReceiver)),
                ("group_by", .strings(notify.groupBy)),
                ("group_wait", .string("\(notify.groupWait)")),
                ("group_interval", .string("\(notify.groupInterval)")),
                ("repeat_interval", .string("\(notify.repeatInterval)")),
                ("routes", routes.isEmpty ? nil : .list(routes))
            )),
            // A critical alert silences the warnings of the same service: one page, not five.
            ("inhibit_rules", [.object(
                ("source_matchers", [.string("severity=\"critical\"")]),
                ("target_matchers", [.string("severity=\"warning\"")]),
                ("equal", .strings(inhibitEqual))
            )]),
            ("receivers", .list(receivers))
        )
        return doc.document(header: GeneratedHeader.lines)
    }

    /// Labels an inhibition requires to be equal; every rendered alert carries them.
    public static let inhibitEqual = ["service"]

    /// A secret becomes a `*_file` setting pointing into the secrets directory, never a value.
    private static func secretSetting(_ key: String, _ value: ConfigValue, secretsDir: String) -> (String, YAMLValue) {
        switch value {
        case .literal(let text): (key, .string(text))
        case .secret(let name): (key + "_file", .string("\(secretsDir)/\(name)"))
        }
    }

    private static func receiver(_ r: Receiver, secretsDir: String) -> YAMLValue {
        var pairs: [YAMLValue.Pair] = [.init("name", .string(r.name))]
        if let email = r.email {
            var config: [YAMLValue.Pair] = [.init("to", .string(email.to)), .init("from", .string(email.from)),
                                            .init("smarthost", .string(email.smarthost)), .init("send_resolved", .bool(true))]
            if let user = email.authUsername { config.append(.init("auth_username", .string(user))) }
            if let password = email.authPassword {
                let (key, value) = secretSetting("auth_password", password, secretsDir: secretsDir)
                config.append(.init(key, value))
            }
            pairs.append(.init("email_configs", [.map(config)]))
        }
        if let pagerduty = r.pagerduty {
            let (key, value) = secretSetting("routing_key", pagerduty.routingKey, secretsDir: secretsDir)
            pairs.append(.init("pagerduty_configs", [.map([.init(key, value), .init("send_resolved", .bool(true))])]))
        }
        if let slack = r.slack {
            let (key, value) = secretSetting("api_url", slack.webhookURL, secretsDir: secretsDir)
            var config: [YAMLValue.Pair] = [.init(key, value)]
            if let channel = slack.channel { config.append(.init("channel", .string(channel))) }
            config.append(.init("send_resolved", .bool(true)))
            config.append(.init("title", .string("[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}")))
            config.append(.init("text", .string("{{ range .Alerts }}{{ .Annotations.summary }} {{ .Annotations.description }}\n{{ end }}")))
            pairs.append(.init("slack_configs", [.map(config)]))
        }
        if let webhook = r.webhook, case .literal(let url) = webhook.url {
            pairs.append(.init("webhook_configs", [.object(("url", .string(url)), ("send_resolved", .bool(true)))]))
        }
        return .map(pairs)
    }

    private static func expectationsDocument(_ spec: Spec) -> String {
        let doc: YAMLValue = .object(("routes", .list(expectations(spec).map { expectation in
            .object(
                ("labels", .map(expectation.labels.sorted { $0.key < $1.key }.map { .init($0.key, .string($0.value)) })),
                ("receivers", .strings(expectation.receivers))
            )
        })))
        return doc.document(header: GeneratedHeader.lines + ["what `amtool config routes test` must answer for each severity"])
    }

    static func uniqued(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }
}
