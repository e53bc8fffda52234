import EmmyApp
import Foundation
import Yams

/// Checks the renderings against each other and against the app, without running any tool.
public enum CrossChecks {
    /// `catalogue`: the alerts the renderings were built from, when the caller has them.
    public static func run(_ spec: Spec, files: [RenderedFile], catalogue: AlertCatalogue? = nil) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let byPath = Dictionary(files.map { ($0.path, $0.contents) }, uniquingKeysWith: { first, _ in first })
        func report(_ path: String, _ needle: String, _ message: String, hint: String? = nil) {
            let text = byPath[path] ?? ""
            let (line, column) = locate(needle, in: text)
            out.append(Diagnostic(.error, at: SourceLocation(file: path, line: line, column: column), path: "", message, hint: hint))
        }

        let catalogue = catalogue ?? AlertCatalogue(spec: spec)
        let recorded = Set(catalogue.recordingRules.map(\.record))
        let known = MetricCatalogue.knownSeries

        // 1. Every series a rule or a panel reads is exposed by the app or node-exporter, or recorded.
        for file in files where file.path.hasPrefix(OutputPath.rulesFolder) {
            for expr in ruleExpressions(file.contents) {
                for name in PromQLNames.metrics(in: expr) where !known.contains(name) && !recorded.contains(name) {
                    report(file.path, name, "`\(name)` is neither in EmmyApp's metric catalogue, nor node-exporter's, nor recorded by a rule")
                }
            }
        }
        for query in GrafanaRenderer.panelQueries(spec, catalogue: catalogue) {
            for name in PromQLNames.metrics(in: query.expr) where !known.contains(name) && !recorded.contains(name) {
                report(OutputPath.grafanaDashboard(query.dashboard), name,
                       "panel `\(query.panel)` reads `\(name)`, which nothing exposes")
            }
        }

        // 2. Every alert has a firing test and a silent test.
        let tests = testedAlerts(files.filter { $0.path.hasPrefix(OutputPath.ruleTestsFolder) })
        for alert in catalogue.alerts {
            let testPath = OutputPath.ruleTests(alert.group)
            if !tests.firing.contains(alert.name) {
                report(testPath, alert.name, "alert `\(alert.name)` has no test in which it fires")
            }
            if !tests.silent.contains(alert.name) {
                report(testPath, alert.name, "alert `\(alert.name)` has no test in which it stays silent")
            }
        }

        // 3. Every routed receiver exists in alertmanager.yml; every alert carries the inhibition's labels.
        let amPath = OutputPath.alertmanagerConfig
        let defined = alertmanagerReceivers(byPath[amPath] ?? "")
        for expectation in AlertmanagerRenderer.expectations(spec) {
            for receiver in expectation.receivers where !defined.contains(receiver) {
                report(amPath, receiver, "route target `\(receiver)` is not defined under receivers")
            }
        }
        for alert in catalogue.alerts {
            let labels = Set(PrometheusRenderer.labels(alert, spec: spec).map(\.0))
            for label in AlertmanagerRenderer.inhibitEqual where !labels.contains(label) {
                report(OutputPath.rules(alert.group), alert.name,
                       "alert `\(alert.name)` lacks the `\(label)` label the inhibition compares")
            }
        }

        // 4. Runbook anchors exist.
        let anchors = RunbookRenderer.anchors(in: byPath[OutputPath.runbook] ?? "")
        for alert in catalogue.alerts where !anchors.contains(alert.anchor) {
            report(OutputPath.rules(alert.group), alert.name, "runbook_url anchor `#\(alert.anchor)` is not a heading of RUNBOOK.md")
        }

        // 5. Job names and ports agree across both Prometheus configs, compose and the spec.
        let hostJobs = PrometheusRenderer.scrapeJobs(spec, topology: .hosts)
        let composeJobs = PrometheusRenderer.scrapeJobs(spec, topology: .compose)
        if hostJobs.map(\.job) != composeJobs.map(\.job) {
            report(OutputPath.composePrometheus, "job_name", "scrape jobs differ from \(OutputPath.prometheusConfig)",
                   hint: "\(composeJobs.map(\.job)) vs \(hostJobs.map(\.job))")
        }
        let published = ComposeRenderer.publishedPorts(spec)
        let composeText = byPath[OutputPath.compose] ?? ""
        for (job, service) in [(spec.appJob, "app"), (PrometheusRenderer.selfJob, "prometheus"),
                               (PrometheusRenderer.alertmanagerJob, "alertmanager"), (AlertCatalogue.nodeJob, "node-exporter"),
                               (PostgresExporter.job, ComposePostgres.exporterService)] {
            guard let port = published[service] else { continue }
            // The hosts' targets are where FleetTopology puts each part; TopologyCrossCheck compares those.
            for jobs in [composeJobs] {
                guard let targets = jobs.first(where: { $0.job == job })?.targets else {
                    report(OutputPath.prometheusConfig, "scrape_configs", "no scrape job `\(job)` for compose service `\(service)`")
                    continue
                }
                for target in targets where !target.hasSuffix(":\(port)") {
                    report(OutputPath.prometheusConfig, target, "job `\(job)` scrapes \(target), but \(service) listens on \(port)")
                }
            }
            if !composeText.contains(":\(port):\(port)") {
                report(OutputPath.compose, service, "compose does not publish \(service) on port \(port)")
            }
        }
        // 6. `backup prune` deletes on the backup prefix: the host policy grants that, and
        //    grants deletion nowhere else, and the bucket keeps deleted versions.
        let storagePath = OutputPath.terraform("storage.tf")
        if spec.backup.bucket != nil, let storage = byPath[storagePath] {
            let prefixARN = "\"${aws_s3_bucket.backups.arn}/\(spec.backup.prefix.isEmpty || spec.backup.prefix.hasSuffix("/") ? spec.backup.prefix : spec.backup.prefix + "/")*\""
            let deleting = storage.components(separatedBy: "statement {").dropFirst().filter { $0.contains("\"s3:DeleteObject\"") }
            if deleting.isEmpty {
                report(storagePath, "host_backups", "`emmyops backup prune` deletes old backups, but the host policy grants no s3:DeleteObject on the backup prefix")
            }
            for statement in deleting {
                let resources = statement.firstMatch(of: /resources\s*=\s*\[([^\]]*)\]/).map { String($0.1) } ?? ""
                if resources.trimmingCharacters(in: .whitespaces) != prefixARN {
                    report(storagePath, "s3:DeleteObject", "s3:DeleteObject is granted on \(resources), not only on the backup prefix \(prefixARN)")
                }
            }
            if !storage.contains("aws_s3_bucket_versioning") {
                report(storagePath, "backups", "the backup bucket is not versioned, so a prune (or a compromised host) deletes backups for good")
            }
        }
        // 7. prometheus.yml scrapes where the hosts answer, through ports the security group opens.
        out += TopologyCrossCheck.run(spec, files: byPath)
        return out
    }

    /// Line and column (1-based) of the first occurrence of `needle`, or 1:1.
    static func locate(_ needle: String, in text: String) -> (Int, Int) {
        guard let range = text.range(of: needle) else { return (1, 1) }
        let before = text[..<range.lowerBound]
        let line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        let column = before.distance(from: before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex, to: before.endIndex) + 1
        return (line, column)
    }

    static func ruleExpressions(_ yaml: String) -> [String] {
        guard let root = try? Yams.compose(yaml: yaml) else { return [] }
        return NodeReader.items(NodeReader.value(root, "groups")).flatMap { group in
            NodeReader.items(NodeReader.value(group, "rules")).compactMap { NodeReader.string(NodeReader.value($0, "expr")) }
        }
    }

    static func testedAlerts(_ files: [RenderedFile]) -> (firing: Set<String>, silent: Set<String>) {
        var firing: Set<String> = [], silent: Set<String> = []
        for file in files {
            guard let root = try? Yams.compose(yaml: file.contents) else { continue }
            for test in NodeReader.items(NodeReader.value(root, "tests")) {
                let checks = NodeReader.items(NodeReader.value(test, "alert_rule_test"))
                for check in checks {
                    guard let name = NodeReader.string(NodeReader.value(check, "alertname")) else { continue }
                    if NodeReader.items(NodeReader.value(check, "exp_alerts")).isEmpty {
                        // A pending checkpoint inside a firing test is not a silent test.
                        if checks.count == 1 { silent.insert(name) }
                    } else {
                        firing.insert(name)
                    }
                }
            }
        }
        return (firing, silent)
    }

    static func alertmanagerReceivers(_ yaml: String) -> Set<String> {
        guard let root = try? Yams.compose(yaml: yaml) else { return [] }
        return Set(NodeReader.items(NodeReader.value(root, "receivers")).compactMap { NodeReader.string(NodeReader.value($0, "name")) })
    }
}

/// Extracts metric names from PromQL: identifiers directly followed by a `{` selector.
///
/// Every selector emmyops renders carries matchers, so this finds every metric it reads.
public enum PromQLNames {
    public static func metrics(in expr: String) -> Set<String> {
        var names: Set<String> = []
        var current = ""
        var inString = false
        var braceDepth = 0
        for char in expr {
            if inString {
                if char == "\"" { inString = false }
                continue
            }
            switch char {
            case "\"": inString = true; current = ""
            case "{":
                if braceDepth == 0, !current.isEmpty { names.insert(current) }
                braceDepth += 1; current = ""
            case "}": braceDepth -= 1; current = ""
            default:
                if braceDepth == 0, char.isLetter || char.isNumber || char == "_" || char == ":" {
                    current.append(char)
                } else {
                    current = ""
                }
            }
        }
        return names
    }
}
