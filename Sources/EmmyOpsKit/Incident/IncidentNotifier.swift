import AsyncHTTPClient
import Crypto
import EmmyApp
import Foundation
import NIOCore

/// What automation tells people: an action's outcome, an escalation, a resolution.
public struct IncidentNotice: Sendable, Hashable {
    public enum Event: String, Sendable { case action, escalation, resolved }

    public var event: Event
    public var alert: String
    public var kind: AlertKind
    public var host: String?
    public var severity: String
    /// One line a human reads first.
    public var summary: String
    public var details: [String: String]
    public var at: Date

    public init(event: Event, alert: String, kind: AlertKind, host: String?, severity: String, summary: String,
                details: [String: String] = [:], at: Date = Date()) {
        self.event = event
        self.alert = alert
        self.kind = kind
        self.host = host
        self.severity = severity
        self.summary = summary
        self.details = details
        self.at = at
    }

    /// Stable per alert kind and host, so PagerDuty folds every trigger of one problem into one
    /// incident and the resolve closes it.
    public var dedupKey: String { "emmyops-incident/\(kind.rawValue)/\(host ?? "no-host")" }
}

/// The bodies each service documents (FACTS.md), built without sending, so tests check shapes.
public enum NoticeBodies {
    /// Slack incoming webhook: `{text}`.
    public static func slack(_ notice: IncidentNotice, channel: String?) -> Data {
        var object: [String: String] = ["text": "[\(notice.event.rawValue)] \(notice.alert) on \(notice.host ?? "no single host"): \(notice.summary)"]
        if let channel { object["channel"] = channel }
        return (try? JSONEncoder.sorted.encode(object)) ?? Data()
    }

    /// PagerDuty Events API v2: trigger for actions and escalations, resolve for resolutions.
    public static func pagerDuty(_ notice: IncidentNotice, routingKey: String, component: String) -> Data {
        struct Payload: Encodable {
            var summary: String, source: String, severity: String, timestamp: String, component: String, group: String, `class`: String
            var custom_details: [String: String]
        }
        struct Event: Encodable {
            var routing_key: String, event_action: String, dedup_key: String
            var payload: Payload?
        }
        let severity = ["critical", "error", "warning", "info"].contains(notice.severity) ? notice.severity : "error"
        let event = Event(routing_key: routingKey, event_action: notice.event == .resolved ? "resolve" : "trigger", dedup_key: notice.dedupKey,
                          payload: Payload(summary: String("\(notice.alert) on \(notice.host ?? "no single host"): \(notice.summary)".prefix(1024)),
                                           source: notice.host ?? "emmyops-incident", severity: severity, timestamp: DateText.iso8601(notice.at),
                                           component: component, group: notice.kind.rawValue, class: notice.alert, custom_details: notice.details))
        return (try? JSONEncoder.sorted.encode(event)) ?? Data()
    }

    /// The generic webhook's JSON.
    public static func webhook(_ notice: IncidentNotice) -> Data {
        var object: [String: String] = ["source": "emmyops-incident", "event": notice.event.rawValue, "alert": notice.alert,
                                        "kind": notice.kind.rawValue, "severity": notice.severity, "summary": notice.summary,
                                        "dedup_key": notice.dedupKey, "at": DateText.iso8601(notice.at)]
        if let host = notice.host { object["host"] = host }
        for (key, value) in notice.details { object["detail_\(key)"] = value }
        return (try? JSONEncoder.sorted.encode(object)) ?? Data()
    }

    /// Header names of a signed webhook post.
    public static let timestampHeader = "X-Emmyops-Timestamp"
    public static let signatureHeader = "X-Emmyops-Signature"

    /// `sha256=` + hex HMAC-SHA256 over `timestamp + "." + body`: the timestamp is signed too,
    /// so a captured post cannot be replayed later with a fresh timestamp.
    public static func signature(key: String, timestamp: String, body: Data) -> String {
        var message = Data((timestamp + ".").utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(key.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}

/// Sends notices to the spec's receivers. Secrets (`${NAME}`) are read at send time from the
/// environment or from `<secrets dir>/NAME`, and never appear in errors.
public struct IncidentNotifier: Sendable {
    public let spec: Spec
    public let environment: [String: String]
    public let client: HTTPClient

    public init(spec: Spec, environment: [String: String] = ProcessInfo.processInfo.environment, client: HTTPClient = .shared) {
        self.spec = spec
        self.environment = environment
        self.client = client
    }

    public enum Delivery: Sendable, Equatable {
        case sent(receiver: String, channel: String)
        case failed(receiver: String, channel: String, reason: String)
    }

    /// Receivers routed for `severity`, or the escalation list.
    public func receivers(for notice: IncidentNotice) -> [Receiver] {
        let names: [String]
        if notice.event == .escalation || notice.event == .resolved {
            names = spec.incident.escalate ?? spec.notify.routes[.critical] ?? []
        } else {
            names = Severity(rawValue: notice.severity).flatMap { spec.notify.routes[$0] } ?? []
        }
        return AlertmanagerRenderer.uniqued(names).compactMap { name in spec.notify.receivers.first { $0.name == name } }
    }

    public func send(_ notice: IncidentNotice) async -> [Delivery] {
        var out: [Delivery] = []
        for receiver in receivers(for: notice) {
            if let slack = receiver.slack {
                out.append(await deliver(receiver.name, "slack", url: slack.webhookURL,
                                         body: NoticeBodies.slack(notice, channel: slack.channel), headers: [:]))
            }
            if let pagerduty = receiver.pagerduty {
                switch secret(pagerduty.routingKey) {
                case .success(let key):
                    out.append(await deliver(receiver.name, "pagerduty", url: .literal(spec.incident.pagerDutyURL),
                                             body: NoticeBodies.pagerDuty(notice, routingKey: key, component: spec.app.name), headers: [:]))
                case .failure(let reason):
                    out.append(.failed(receiver: receiver.name, channel: "pagerduty", reason: reason.description))
                }
            }
            if let webhook = receiver.webhook {
                let body = NoticeBodies.webhook(notice)
                var headers: [String: String] = [:]
                if let key = signingKey() {
                    let timestamp = String(Int(notice.at.timeIntervalSince1970))
                    headers[NoticeBodies.timestampHeader] = timestamp
                    headers[NoticeBodies.signatureHeader] = NoticeBodies.signature(key: key, timestamp: timestamp, body: body)
                }
                out.append(await deliver(receiver.name, "webhook", url: webhook.url, body: body, headers: headers))
            }
        }
        return out
    }

    /// The HMAC key of webhook posts: `incident.signing_key_file`, else $EMMYOPS_INCIDENT_SIGNING_KEY.
    func signingKey() -> String? {
        if let file = spec.incident.signingKeyFile, let text = try? String(contentsOfFile: file, encoding: .utf8) {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return environment["EMMYOPS_INCIDENT_SIGNING_KEY"]
    }

    struct SecretMissing: Error, CustomStringConvertible {
        var name: String
        var description: String { "secret `\(name)` is neither in the environment nor a file in the secrets directory" }
    }

    func secret(_ value: ConfigValue) -> Result<String, SecretMissing> {
        switch value {
        case .literal(let text): return .success(text)
        case .secret(let name):
            if let text = environment[name], !text.isEmpty { return .success(text) }
            let path = spec.monitoring.alertmanager.secretsDir + "/" + name
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return .success(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return .failure(SecretMissing(name: name))
        }
    }

    private func deliver(_ receiver: String, _ channel: String, url: ConfigValue, body: Data, headers: [String: String]) async -> Delivery {
        let address: String
        switch secret(url) {
        case .success(let text): address = text
        case .failure(let missing): return .failed(receiver: receiver, channel: channel, reason: missing.description)
        }
        var request = HTTPClientRequest(url: address)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "emmyops-incident")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 << 10)
            let status = Int(response.status.code)
            // The URL may itself be the secret (Slack's is): errors name the channel, not the URL.
            return (200..<300).contains(status) ? .sent(receiver: receiver, channel: channel)
                : .failed(receiver: receiver, channel: channel, reason: "answered HTTP \(status)")
        } catch {
            return .failed(receiver: receiver, channel: channel, reason: "not delivered (\(type(of: error)))")
        }
    }
}
