/// Errors of deploy, rollback and the host-side activation.
public enum DeployError: Error, Sendable, CustomStringConvertible {
    /// The new release did not answer its readiness path in time; `log` is the end of its log.
    case gateFailed(host: String, version: String, reason: String, log: String)
    /// nginx refused the configuration or the reload.
    case proxy(String)
    /// Another run holds the fleet's deploy lock.
    case locked(holder: String, expires: String)
    /// The release to activate or roll back to is not on the host.
    case missingRelease(host: String, version: String)
    /// A value that cannot be used (a version with unsafe characters, an unknown host).
    case invalid(String)
    /// A local file to deploy (the artifact, the spec) cannot be read.
    case unreadable(path: String, reason: String)
    /// A host failed; every host already switched was returned to its previous release.
    case fleetFailed(host: String, reason: String, rolledBack: [String], unreachable: Bool)

    public var description: String {
        switch self {
        case .gateFailed(let host, let version, let reason, let log):
            "\(host): release \(version) did not become ready: \(reason)" + (log.isEmpty ? "" : "\nlast lines of its log:\n\(log)")
        case .proxy(let message): message
        case .locked(let holder, let expires): "the fleet is being deployed by \(holder) (lock expires \(expires))"
        case .missingRelease(let host, let version): "\(host): release \(version) is not on the host"
        case .invalid(let message): message
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .fleetFailed(let host, let reason, let rolledBack, _):
            "deploy failed on \(host): \(reason)" + (rolledBack.isEmpty ? "" : "\nreturned to the previous release: \(rolledBack.joined(separator: ", "))")
        }
    }
}
