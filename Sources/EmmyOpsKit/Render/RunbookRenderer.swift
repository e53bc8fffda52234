/// Renders RUNBOOK.md: one section per alert, each the target of that alert's `runbook_url`.
public enum RunbookRenderer {
    public static func render(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> RenderedFile {
        var out = GeneratedHeader.markdown
        out += "# \(spec.project) runbook\n\n"
        out += "One section per alert that `\(spec.app.name)`'s Prometheus can fire. Each alert's `runbook_url` links here.\n\n"
        for alert in (catalogue ?? AlertCatalogue(spec: spec)).alerts {
            out += "## \(alert.name)\n\n"
            out += "Severity: **\(alert.severity.rawValue)**; fires after the condition holds for \(alert.for).\n\n"
            out += "**What it means.** \(alert.runbook.meaning)\n\n"
            out += "**Condition.**\n\n```promql\n\(alert.expr)\n```\n\n"
            out += "**First steps.**\n\n"
            for (index, step) in alert.runbook.firstSteps.enumerated() { out += "\(index + 1). \(step)\n" }
            out += "\n"
            out += IncidentRunbook.section(alertName: alert.name, spec: spec)
        }
        return RenderedFile(path: OutputPath.runbook, contents: out)
    }

    /// Anchors of a Markdown document's `##` headings, the way GitHub makes them.
    public static func anchors(in markdown: String) -> Set<String> {
        var anchors: Set<String> = []
        for line in markdown.split(separator: "\n") where line.hasPrefix("## ") {
            let heading = line.dropFirst(3).lowercased()
            let slug = heading.map { $0 == " " ? "-" : $0 }.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            anchors.insert(String(slug))
        }
        return anchors
    }
}
