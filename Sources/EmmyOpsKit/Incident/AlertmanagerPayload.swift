import Foundation

/// Alertmanager's webhook body, version 4 (FACTS.md): only what incident response reads, but
/// every field it relies on is required, so a malformed body is refused rather than half-read.
public struct AlertmanagerPayload: Codable, Sendable, Hashable {
    public struct Alert: Codable, Sendable, Hashable {
        /// firing | resolved
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String?
        public var generatorURL: String?
        public var fingerprint: String

        public init(status: String, labels: [String: String], annotations: [String: String] = [:], startsAt: String,
                    endsAt: String? = nil, generatorURL: String? = nil, fingerprint: String) {
            self.status = status
            self.labels = labels
            self.annotations = annotations
            self.startsAt = startsAt
            self.endsAt = endsAt
            self.generatorURL = generatorURL
            self.fingerprint = fingerprint
        }

        public var name: String { labels["alertname"] ?? "" }
        public var isResolved: Bool { status == "resolved" }
    }

    public var version: String
    public var groupKey: String?
    public var truncatedAlerts: Int?
    public var status: String
    public var receiver: String
    public var groupLabels: [String: String]?
    public var commonLabels: [String: String]?
    public var commonAnnotations: [String: String]?
    public var externalURL: String?
    public var alerts: [Alert]

    public init(status: String, receiver: String = "emmyops-incident", alerts: [Alert]) {
        version = "4"
        self.status = status
        self.receiver = receiver
        self.alerts = alerts
    }

    /// Why a body was refused; each case becomes a 4xx with this text.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notJSON(String)
        case unsupportedVersion(String)
        case badAlert(index: Int, reason: String)

        public var description: String {
            switch self {
            case .notJSON(let reason): "not an Alertmanager webhook body: \(reason)"
            case .unsupportedVersion(let version): "payload version \(version) is not supported (expected 4)"
            case .badAlert(let index, let reason): "alerts[\(index)]: \(reason)"
            }
        }
    }

    /// Decodes and checks a body.
    public static func parse(_ data: Data) throws(Refusal) -> AlertmanagerPayload {
        let payload: AlertmanagerPayload
        do {
            payload = try JSONDecoder().decode(AlertmanagerPayload.self, from: data)
        } catch let error as DecodingError {
            throw .notJSON(Self.describe(error))
        } catch {
            throw .notJSON("\(error)")
        }
        guard payload.version == "4" else { throw .unsupportedVersion(payload.version) }
        for (index, alert) in payload.alerts.enumerated() {
            if !["firing", "resolved"].contains(alert.status) { throw .badAlert(index: index, reason: "status `\(alert.status)` is neither firing nor resolved") }
            if alert.fingerprint.isEmpty { throw .badAlert(index: index, reason: "empty fingerprint") }
            if alert.name.isEmpty { throw .badAlert(index: index, reason: "no alertname label") }
            if Self.time(alert.startsAt) == nil { throw .badAlert(index: index, reason: "startsAt `\(alert.startsAt)` is not an RFC 3339 time") }
        }
        return payload
    }

    /// An RFC 3339 time as Alertmanager writes it (up to nanoseconds, `Z` or an offset).
    public static func time(_ text: String) -> Date? {
        // ISO8601DateFormatter reads at most milliseconds: drop the fraction, add it back.
        var whole = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            fraction = Double("0" + text[dot..<end]) ?? 0
            whole = String(text[..<dot] + text[end...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: whole).map { $0.addingTimeInterval(fraction) }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "missing `\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))`"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at `\(context.codingPath.map(\.stringValue).joined(separator: "."))`"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "\(error)"
        }
    }
}
