import EmmyApp
import Foundation

/// The receiver's own counters, exposed on its `/metrics` in the text format, under the names
/// EmmyApp's metric catalogue declares (`MetricCatalogue.incidentMetrics`).
public final class IncidentMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var notifications: [String: Int] = [:]
    private var actions: [[String]: Int] = [:]

    public init() {}

    /// `result`: firing, resolved, duplicate, rejected, unauthorized.
    public func notification(_ result: String) {
        lock.withLock { notifications[result, default: 0] += 1 }
    }

    public func action(_ kind: AlertKind, _ step: PlaybookStep, _ outcome: String) {
        lock.withLock { actions[[kind.rawValue, step.rawValue, outcome], default: 0] += 1 }
    }

    public func count(_ kind: AlertKind, _ step: PlaybookStep, _ outcome: String) -> Int {
        lock.withLock { actions[[kind.rawValue, step.rawValue, outcome]] ?? 0 }
    }

    /// The exposition; `frozen` are the open freezes (kind, host), read from the ledger.
    public func exposition(frozen: [(kind: String, host: String)]) -> String {
        let (notifications, actions) = lock.withLock { (self.notifications, self.actions) }
        var out = ""
        func header(_ metric: MetricDescriptor) {
            out += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) \(metric.type.rawValue)\n"
        }
        func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        header(MetricCatalogue.incidentNotifications)
        for (result, value) in notifications.sorted(by: { $0.key < $1.key }) {
            out += "\(MetricCatalogue.incidentNotifications.name){result=\"\(escape(result))\"} \(value)\n"
        }
        header(MetricCatalogue.incidentActions)
        for (labels, value) in actions.sorted(by: { $0.key.joined(separator: "/") < $1.key.joined(separator: "/") }) {
            out += "\(MetricCatalogue.incidentActions.name){alert=\"\(escape(labels[0]))\",step=\"\(escape(labels[1]))\",outcome=\"\(escape(labels[2]))\"} \(value)\n"
        }
        header(MetricCatalogue.incidentFrozen)
        out += "\(MetricCatalogue.incidentFrozen.name) \(frozen.count)\n"
        return out
    }
}
