/// Which alert kind and which spec host a notified alert is about.
public enum AlertRouting {
    /// The alert name the catalogue renders for each kind (a test holds the two together).
    public static let alertNames: [AlertKind: String] = [
        .appDown: "EmmyAppDown", .databaseDown: "EmmyDatabaseDown", .highErrorRate: "EmmyHighErrorRate",
        .highFailureRate: "EmmyHighMessageFailureRate", .slowProcessing: "EmmySlowBatchProcessing",
        .rateLimitExceeded: "EmmyRateLimitExceeded", .highCPU: "EmmyHostHighCPU", .highMemory: "EmmyHostHighMemory",
        .lowDisk: "EmmyHostLowDisk", .backupStale: "EmmyBackupStale",
    ]

    public static func kind(alertname: String) -> AlertKind? {
        alertNames.first { $0.value == alertname }?.key
    }

    /// Hosts an alert's labels point at: its `host` label, else the host part of `instance`,
    /// else (an aggregate such as the error rate, summed over the job) every host that runs
    /// what the alert watches. More or fewer than one and destructive steps are refused.
    public static func hosts(for labels: [String: String], kind: AlertKind?, in spec: Spec) -> [Host] {
        if let name = labels["host"] {
            return spec.hosts.filter { $0.name == name || $0.address == name || $0.privateAddress == name }
        }
        if let instance = labels["instance"] {
            let address = hostPart(of: instance)
            // Scrape targets are the hosts' private addresses when the spec gives them.
            return spec.hosts.filter { $0.address == address || $0.privateAddress == address || $0.name == address }
        }
        let hostKinds: Set<AlertKind> = [.highCPU, .highMemory, .lowDisk]
        if let kind, hostKinds.contains(kind) { return spec.hosts }
        return spec.hosts.filter { $0.roles.contains(.app) }
    }

    /// `10.0.0.1:5000` → `10.0.0.1`; `[::1]:5000` → `::1`; a bare name stays as it is.
    static func hostPart(of instance: String) -> String {
        if instance.hasPrefix("["), let close = instance.firstIndex(of: "]") {
            return String(instance[instance.index(after: instance.startIndex)..<close])
        }
        if instance.filter({ $0 == ":" }).count == 1, let colon = instance.firstIndex(of: ":") {
            return String(instance[..<colon])
        }
        return instance
    }
}
