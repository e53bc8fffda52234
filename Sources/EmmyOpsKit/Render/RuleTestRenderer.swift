/// Renders promtool unit tests: for every alert, one test where it is pending and then firing
/// with every label and annotation asserted, and one where it stays silent.
public enum RuleTestRenderer {
    public static func render(_ spec: Spec, catalogue: AlertCatalogue? = nil) -> [RenderedFile] {
        let catalogue = catalogue ?? AlertCatalogue(spec: spec)
        let alerts = catalogue.alerts
        return catalogue.groups.map { group in
            let tests: [YAMLValue] = alerts.filter { $0.group == group }.flatMap { [firingTest($0, spec: spec), silentTest($0)] }
            let doc: YAMLValue = .object(
                ("rule_files", [.string("../rules/\(group).yml")]),
                ("evaluation_interval", .string("\(AlertCatalogue.testStep)")),
                ("tests", .list(tests))
            )
            return RenderedFile(path: OutputPath.ruleTests(group), contents: doc.document(header: GeneratedHeader.lines))
        }
    }

    /// Evaluation times (in test steps) of the last pending step and the first firing step.
    static func checkpoints(_ alert: AlertDefinition) -> (pending: Int?, firing: Int) {
        let hold = AlertCatalogue.stepsToFire(alert.for)
        let first = alert.scenario.firstTrueStep
        return (hold > 0 ? first + hold - 1 : nil, first + hold)
    }

    static func time(_ step: Int) -> String { "\(AlertCatalogue.testStep * Int64(step))" }

    private static func series(_ list: [InputSeries]) -> YAMLValue {
        .list(list.map { .object(("series", .string($0.selector)), ("values", .string($0.values))) })
    }

    private static func firingTest(_ alert: AlertDefinition, spec: Spec) -> YAMLValue {
        let (pending, firing) = checkpoints(alert)
        var labels = alert.scenario.outputLabels
        for (key, value) in PrometheusRenderer.labels(alert, spec: spec) { labels[key] = value }
        let annotations = PrometheusRenderer.annotations(alert, spec: spec).map { key, value in
            YAMLValue.Pair(key, .string(expand(value, labels: labels)))
        }
        let expected: YAMLValue = .object(
            ("exp_labels", .map(labels.sorted { $0.key < $1.key }.map { .init($0.key, .string($0.value)) })),
            ("exp_annotations", .map(annotations))
        )
        var checks: [YAMLValue] = []
        if let pending {
            // Still pending: the condition holds but `for` has not elapsed, so nothing fires yet.
            checks.append(.object(("eval_time", .string(time(pending))), ("alertname", .string(alert.name)), ("exp_alerts", [])))
        }
        checks.append(.object(("eval_time", .string(time(firing))), ("alertname", .string(alert.name)), ("exp_alerts", [expected])))
        return .object(
            ("name", .string("\(alert.name) fires")),
            ("interval", .string("\(AlertCatalogue.testStep)")),
            ("input_series", series(alert.scenario.firing)),
            ("alert_rule_test", .list(checks))
        )
    }

    private static func silentTest(_ alert: AlertDefinition) -> YAMLValue {
        let (_, firing) = checkpoints(alert)
        return .object(
            ("name", .string("\(alert.name) stays silent")),
            ("interval", .string("\(AlertCatalogue.testStep)")),
            ("input_series", series(alert.scenario.silent)),
            ("alert_rule_test", [.object(("eval_time", .string(time(firing + 1))), ("alertname", .string(alert.name)), ("exp_alerts", []))])
        )
    }

    /// Expands `{{ $labels.NAME }}` the way Prometheus' template engine will.
    static func expand(_ template: String, labels: [String: String]) -> String {
        var out = template
        for (key, value) in labels {
            out = out.replacingExactly("{{ $labels.\(key) }}", with: value)
        }
        return out
    }
}

import Foundation
