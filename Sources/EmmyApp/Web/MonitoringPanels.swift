import Foundation

/// The monitoring page's charts and alert list: from Prometheus and Alertmanager when they are
/// configured and answer within `MonitoringBackends.timeout`, else the charts from the app's
/// own rolling history and a line saying why.
extension WebController {
    /// What the backends answered: the hour's series or why not, the alerts or why not.
    struct Panels: Sendable {
        var hour: Result<PrometheusHour, Unavailable>
        var alerts: Result<[ActiveAlert], Unavailable>
    }

    struct Unavailable: Error {
        var reason: String
    }

    /// Both fetches at once, each bounded by MonitoringBackends.timeout.
    func fetchPanels() async -> Panels {
        let monitoring = config.monitoring
        async let hour: Result<PrometheusHour, Unavailable> = {
            guard let base = monitoring.prometheus else { return .failure(Unavailable(reason: "no Prometheus is configured")) }
            do { return .success(try await PrometheusHour.fetch(from: base)) } catch {
                return .failure(Unavailable(reason: "Prometheus at \(base) did not answer (\(error))"))
            }
        }()
        async let alerts: Result<[ActiveAlert], Unavailable> = {
            guard let base = monitoring.alertmanager else { return .failure(Unavailable(reason: "No Alertmanager is configured.")) }
            do { return .success(try await ActiveAlert.fetch(from: base)) } catch {
                return .failure(Unavailable(reason: "Alertmanager at \(base) did not answer (\(error))."))
            }
        }()
        return Panels(hour: await hour, alerts: await alerts)
    }

    /// Chart contexts for Templates/web/chart.mustache, the line naming their source, and the alerts.
    func panelValues(_ panels: Panels) -> [String: Any] {
        var values: [String: Any]
        switch panels.hour {
        case .success(let hour):
            values = Self.charts(sent: hour.sent, delivered: hour.delivered, failed: hour.failed,
                                 queueDepth: hour.queueDepth, errorPercent: hour.errorPercent)
            values["latencyChart"] = SVGChart(id: "chart-latency", title: "95th percentile HTTP request latency, last hour", unit: " s",
                                              series: [.init(name: "p95 latency", style: "series-2", values: hour.p95Latency)]).context
            values["chartSource"] = "Prometheus at \(config.monitoring.prometheus ?? "")"
        case .failure(let unavailable):
            let hour = history.lastHour()
            values = Self.charts(sent: hour.map { Double($0.sent) }, delivered: hour.map { Double($0.delivered) },
                                 failed: hour.map { Double($0.failed) }, queueDepth: hour.map { $0.queueDepth.map(Double.init) },
                                 errorPercent: hour.map { $0.errorRatio.map { $0 * 100 } })
            values["chartSource"] = "this app's own history since it started (\(unavailable.reason))"
        }
        switch panels.alerts {
        case .success(let alerts):
            values["alerts"] = alerts.map { alert -> [String: Any] in
                ["name": alert.name, "severity": alert.severity, "summary": alert.summary, "instance": alert.instance,
                 "since": alert.since.map(Self.timestamp) ?? ""]
            }
            values["noAlerts"] = alerts.isEmpty
            values["alertsSource"] = config.monitoring.alertmanager ?? ""
        case .failure(let unavailable):
            values["alertsUnavailable"] = unavailable.reason
        }
        return values
    }

    static func charts(sent: [Double?], delivered: [Double?], failed: [Double?], queueDepth: [Double?], errorPercent: [Double?]) -> [String: Any] {
        [
            "messagesChart": SVGChart(id: "chart-messages", title: "Messages per minute, last hour", unit: "", series: [
                .init(name: "sent", style: "series-1", values: sent),
                .init(name: "delivered", style: "series-2", values: delivered),
                .init(name: "failed", style: "series-3", values: failed),
            ]).context,
            "queueChart": SVGChart(id: "chart-queue", title: "Queue depth, last hour", unit: "",
                                   series: [.init(name: "queue depth", style: "series-1", values: queueDepth)]).context,
            "errorChart": SVGChart(id: "chart-errors", title: "Error ratio of send attempts, last hour", unit: "%",
                                   series: [.init(name: "error ratio", style: "series-3", values: errorPercent)]).context,
        ]
    }
}
