import EmmyApp
import Foundation

/// Checks of the built model, run in one fixed order. Each section's own checks live in its
/// file (`validateApp`, `validateHosts`, …); what spans sections (listener ports, the incident
/// webhook) is checked here.
public enum SpecValidation {
    public static func validate(_ spec: Spec) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func error(_ path: String, _ message: String, hint: String? = nil) {
            out.append(Diagnostic(.error, at: spec.sourceMap.location(of: path), path: path, message, hint: hint))
        }
        func warning(_ path: String, _ message: String, hint: String? = nil) {
            out.append(Diagnostic(.warning, at: spec.sourceMap.location(of: path), path: path, message, hint: hint))
        }

        validateApp(spec, error: error)
        validateHosts(spec, error: error, warning: warning)

        // Ports: the stack shares hosts, so every listener needs its own port.
        let m = spec.monitoring
        var ports: [(String, Int)] = [("app.port", spec.app.port), ("monitoring.prometheus.port", m.prometheus.port),
                                      ("monitoring.alertmanager.port", m.alertmanager.port), ("monitoring.grafana.port", m.grafana.port)]
        if m.nodeExporter.enabled { ports.append(("monitoring.node_exporter.port", m.nodeExporter.port)) }
        ports.append(("monitoring.app_metrics.port", m.appMetrics.port))
        if let url = spec.incident.webhook.flatMap(URL.init(string:)), let port = url.port, isLocal(url.host) {
            ports.append(("incident.webhook", port))
        }
        var byPort: [Int: String] = [:]
        for (path, port) in ports {
            if let other = byPort[port] {
                error(path, "port \(port) is already used by \(other)", hint: "give each listener its own port")
            } else {
                byPort[port] = path
            }
        }

        validateMonitoring(spec, error: error, warning: warning)
        validateAlerts(spec, error: error, warning: warning)
        validateSLO(spec, error: error, warning: warning)
        validateNotify(spec, error: error, warning: warning)
        validateRelease(spec, error: error)
        InfrastructureValidation.validate(spec, error: error, warning: warning)
        DatabaseInfrastructureValidation.validate(spec, error: error)
        TopologyValidation.validate(spec, error: error)
        validateSupervise(spec, error: error)
        validateIncident(spec, error: error, warning: warning)
        validateBackup(spec, error: error)
        DeployValidation.validate(spec, error: error)
        validateSending(spec.app, error: error, warning: warning)

        if let webhook = spec.incident.webhook {
            if let url = URL(string: webhook), ["http", "https"].contains(url.scheme ?? ""), url.host != nil {} else {
                error("incident.webhook", "`\(webhook)` is not an http(s) URL")
            }
        }
        validateAppSecrets(spec, error: error)
        return out
    }

    static func isLabelValue(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func isLocal(_ host: String?) -> Bool {
        guard let host else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}
