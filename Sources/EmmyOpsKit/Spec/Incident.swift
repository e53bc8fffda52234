import EmmyApp
import Foundation
import Yams

// The `incident:` section, whole: the model (playbooks with their SRE defaults, the remedy
// budget), its checks, its schema (defaults read off the model) and how it is read from the
// YAML tree. A new key is added here and nowhere else.

/// What a playbook may do: a fixed vocabulary, never a shell string.
public enum PlaybookStep: String, Sendable, Hashable, CaseIterable, Codable {
    /// The app's health and ready paths and the supervisor's status; a healthy app ends the playbook.
    case check
    /// Collect a diagnostics bundle (status, log tail, metrics, releases, audit, df/free/uptime, database).
    case diagnose
    /// Restart the app through the host's supervisor.
    case restart
    /// Return to the previous release, only after a deploy within `rollback_window`.
    case rollback
    /// Stop claiming from the send queue, keeping everything queued.
    case pauseSending = "pause_sending"
    case resumeSending = "resume_sending"
    /// Delete releases beyond `deploy.keep_releases` and rotated logs.
    case cleanup
    /// Tell the receivers routed for the alert's severity what automation found and did.
    case notify
    /// Wait until the alert resolves or `incident.wait_timeout` passes.
    case wait

    /// Steps that change a host in a way a wrong call could hurt: never run for a resolved
    /// alert, for an alert that maps to no single host, or past the budget.
    public var isDestructive: Bool { [.restart, .rollback, .cleanup].contains(self) }

    /// Steps the remedy budget counts.
    public var isBudgeted: Bool { self == .restart || self == .rollback }
}

/// The `incident:` section: how `emmyops incident` acts on alerts.
public struct Incident: Sendable, Hashable {
    /// URL of emmyops' own alert receiver; when set, every alert is also routed there.
    public var webhook: String?
    /// File holding the bearer token Alertmanager sends and `incident serve` requires.
    public var tokenFile: String?
    /// Where `incident serve` listens; nil takes host and port from `webhook`.
    public var listen: String?
    /// A rollback is only considered when a deploy finished on the host within this window.
    public var rollbackWindow: PromDuration = .minutes(30)
    /// Longest a `wait` step, or a `check` after a remedy, waits.
    public var waitTimeout: PromDuration = .minutes(2)
    public var budget = RemedyBudgetSettings()
    /// Alert kind → ordered steps; every kind has one (the defaults below unless written).
    public var playbooks: [AlertKind: [PlaybookStep]] = Incident.defaultPlaybooks
    /// Receivers the escalation notice goes to; nil sends it to the critical route's receivers.
    public var escalate: [String]?
    /// Key of the HMAC-SHA256 signature on generic-webhook notices.
    public var signingKeyFile: String?
    /// PagerDuty Events API v2 endpoint (a test points it at a local listener).
    public var pagerDutyURL: String = "https://events.pagerduty.com/v2/enqueue"

    public init(webhook: String? = nil) { self.webhook = webhook }

    /// Defaults an SRE would sign off: restart only what is down, roll back only a recent deploy,
    /// never restore a database automatically, and tell people when automation could not help.
    public static let defaultPlaybooks: [AlertKind: [PlaybookStep]] = [
        .appDown: [.check, .restart, .check, .notify],
        .highErrorRate: [.diagnose, .rollback, .notify],
        .highFailureRate: [.diagnose, .pauseSending, .notify],
        .databaseDown: [.diagnose, .notify],
        .highCPU: [.diagnose, .cleanup, .notify],
        .highMemory: [.diagnose, .cleanup, .notify],
        .lowDisk: [.diagnose, .cleanup, .notify],
        .slowProcessing: [.diagnose, .notify],
        .rateLimitExceeded: [.diagnose, .notify],
        // A stale backup needs a person (credentials, bucket, recipients); nothing to restart.
        .backupStale: [.diagnose, .notify],
    ]

    public func playbook(_ kind: AlertKind) -> [PlaybookStep] { playbooks[kind] ?? Self.defaultPlaybooks[kind] ?? [] }

    /// host:port `incident serve` binds: `listen`, else the webhook URL's, else 127.0.0.1:9095.
    public var listenAddress: (host: String, port: Int) {
        if let listen, let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) {
            return (String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
        }
        if let webhook, let url = URL(string: webhook), let host = url.host { return (host, url.port ?? 80) }
        return ("127.0.0.1", 9095)
    }

    /// The path Alertmanager posts to: the webhook URL's, else `/alerts`.
    public var webhookPath: String {
        webhook.flatMap(URL.init(string:)).map(\.path).flatMap { $0.isEmpty ? nil : $0 } ?? "/alerts"
    }
}

/// How many restarts and rollbacks automation may try per host and alert, and how far apart.
public struct RemedyBudgetSettings: Sendable, Hashable {
    public var attempts: Int = 3
    public var window: PromDuration = .minutes(30)
    /// Wait before the second attempt; doubles per attempt up to `backoffMax`.
    public var backoffInitial: PromDuration = .seconds(30)
    public var backoffMax: PromDuration = .minutes(5)
    public init() {}
}

// MARK: - Validation

extension SpecValidation {
    /// Playbooks that can run against this spec, a budget that can be spent, receivers that exist.
    static func validateIncident(_ spec: Spec, error: (String, String, String?) -> Void, warning: (String, String, String?) -> Void) {
        let incident = spec.incident
        if incident.webhook != nil, incident.tokenFile == nil {
            warning("incident.webhook", "no incident.token_file: `emmyops incident serve` refuses every notification without a token",
                    "add `token_file: /etc/emmyops/incident.token` (the same file Alertmanager sends as its bearer token)")
        }
        for kind in AlertKind.allCases {
            let path = "incident.playbooks.\(kind.rawValue)"
            // Only what the spec wrote: the default high_error_rate playbook's rollback is simply
            // skipped (with its reason) on a spec that does not deploy.
            guard spec.sourceMap.isWritten(path) else { continue }
            for (index, step) in incident.playbook(kind).enumerated() where step == .rollback && !spec.sourceMap.isWritten("deploy") {
                error("\(path)[\(index)]", "`rollback` needs a `deploy:` section: without deploys there is no release to return to",
                      "add a deploy: section, or remove the step")
            }
        }
        let budget = incident.budget
        for (key, value) in [("budget.window", budget.window), ("budget.backoff_initial", budget.backoffInitial),
                             ("rollback_window", incident.rollbackWindow), ("wait_timeout", incident.waitTimeout)] where value.milliseconds == 0 {
            error("incident.\(key)", "must be longer than 0s", nil)
        }
        if budget.backoffMax < budget.backoffInitial {
            error("incident.budget.backoff_max", "\(budget.backoffMax) is shorter than backoff_initial (\(budget.backoffInitial))", nil)
        }
        let names = spec.notify.receivers.map(\.name)
        for (index, name) in (incident.escalate ?? []).enumerated() where !names.contains(name) {
            error("incident.escalate[\(index)]", "names receiver `\(name)`, which does not exist",
                  Suggest.closest(to: name, in: names).map { "did you mean `\($0)`?" })
        }
        if let listen = incident.listen, incident.listenAddress.port <= 0 || incident.listenAddress.port > 65535 || !listen.contains(":") {
            error("incident.listen", "`\(listen)` is not host:port", "write e.g. 127.0.0.1:9095")
        }
    }
}

// MARK: - Schema

extension SpecSchema {
    static let incident = SchemaField("incident", .object([
        SchemaField("webhook", .string, "URL of emmyops' own alert receiver; every alert is also sent there."),
        SchemaField("token_file", .string, "File with the bearer token Alertmanager sends and `incident serve` requires; without it every notification is refused."),
        SchemaField("listen", .string, "host:port `incident serve` binds (default: the webhook URL's host and port)."),
        SchemaField("rollback_window", .duration, "A rollback is only tried after a deploy finished on the host within this window (default \(Incident().rollbackWindow))."),
        SchemaField("wait_timeout", .duration, "Longest a `wait` step, or a `check` after a remedy, waits (default \(Incident().waitTimeout))."),
        SchemaField("budget", .object([
            SchemaField("attempts", .integer(min: 1, max: 100), "Restarts and rollbacks allowed per host and alert within the window (default \(RemedyBudgetSettings().attempts))."),
            SchemaField("window", .duration, "Sliding window attempts are counted in (default \(RemedyBudgetSettings().window))."),
            SchemaField("backoff_initial", .duration, "Wait before the second attempt; doubles per attempt (default \(RemedyBudgetSettings().backoffInitial))."),
            SchemaField("backoff_max", .duration, "Cap on that wait (default \(RemedyBudgetSettings().backoffMax))."),
        ]), "When it is spent, automation for that alert and host freezes and escalates until `emmyops incident ack`."),
        SchemaField("playbooks", .object(AlertKind.allCases.map { kind in
            SchemaField(kind.rawValue, .list(.enumeration(PlaybookStep.allCases.map(\.rawValue))),
                        "Steps for \(kind.rawValue), in order (default: \(Incident.defaultPlaybooks[kind]!.map(\.rawValue).joined(separator: ", "))).")
        }), "Alert kind → ordered steps from a fixed vocabulary: \(PlaybookStep.allCases.map(\.rawValue).joined(separator: ", "))."),
        SchemaField("escalate", .list(.string), "Receivers of the escalation notice (default: the critical route's)."),
        SchemaField("signing_key_file", .string, "File with the key of the HMAC-SHA256 signature on webhook notices (else $EMMYOPS_INCIDENT_SIGNING_KEY)."),
        SchemaField("pagerduty_url", .string, "PagerDuty Events API v2 endpoint (default \(Incident().pagerDutyURL))."),
    ]), "Automated incident response: `emmyops incident serve` acts on Alertmanager's notifications.")
}

// MARK: - Reading

extension SpecBuilder {
    func incident(_ node: CheckedNode?) -> Incident {
        var incident = Incident(webhook: R.string(R.value(node, "webhook")))
        incident.tokenFile = R.string(R.value(node, "token_file"))
        incident.listen = R.string(R.value(node, "listen"))
        set(&incident.rollbackWindow, duration(R.value(node, "rollback_window")))
        set(&incident.waitTimeout, duration(R.value(node, "wait_timeout")))
        let budget = R.value(node, "budget")
        set(&incident.budget.attempts, R.int(R.value(budget, "attempts")))
        set(&incident.budget.window, duration(R.value(budget, "window")))
        set(&incident.budget.backoffInitial, duration(R.value(budget, "backoff_initial")))
        set(&incident.budget.backoffMax, duration(R.value(budget, "backoff_max")))
        for (key, value) in R.pairs(R.value(node, "playbooks")) {
            guard let kind = AlertKind(rawValue: key), let steps = strings(value) else { continue }
            incident.playbooks[kind] = steps.compactMap(PlaybookStep.init(rawValue:))
        }
        incident.escalate = strings(R.value(node, "escalate"))
        incident.signingKeyFile = R.string(R.value(node, "signing_key_file"))
        set(&incident.pagerDutyURL, R.string(R.value(node, "pagerduty_url")))
        return incident
    }
}
