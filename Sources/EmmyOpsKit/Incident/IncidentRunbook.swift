/// What RUNBOOK.md says, per alert, about the automation that acts on it and how to stop it.
public enum IncidentRunbook {
    /// Markdown paragraphs for the alert named `alertName`; empty when no automation acts on it.
    public static func section(alertName: String, spec: Spec) -> String {
        guard spec.incident.webhook != nil, let kind = AlertRouting.kind(alertname: alertName) else { return "" }
        let steps = spec.incident.playbook(kind)
        let budget = spec.incident.budget
        var out = "**What automation does.** "
        if steps.isEmpty {
            out += "Nothing: the playbook for `\(kind.rawValue)` is empty.\n\n"
        } else {
            out += "`emmyops incident serve` runs `\(steps.map(\.rawValue).joined(separator: "` → `"))` "
            out += "on the host the alert's `instance` names (no single host: it escalates instead of acting). "
            out += "A `check` that finds the app healthy ends the run; a resolved alert cancels what is pending and never restarts, rolls back or cleans up. "
            if steps.contains(where: \.isBudgeted) {
                out += "Restarts and rollbacks are limited to \(budget.attempts) per host in \(budget.window), \(budget.backoffInitial) apart at first and doubling; "
                out += "when they are spent, automation for this alert and host freezes and the escalation receivers get the diagnostics summary. "
            }
            if steps.contains(.rollback) {
                out += "A rollback only happens when a deploy finished on the host within \(spec.incident.rollbackWindow). "
            }
            out += "Every action is a line in the host's audit log; `emmyops incident history` shows the runs.\n\n"
            if steps.contains(.pauseSending) {
                out += "**Sending paused?** `pause_sending` only pauses when the host's failures of the last 15 minutes show the provider refusing the credentials (401/403, Twilio 20003); "
                out += "5xx, 429 and timeouts are left to the app's retries. While paused (`emmy_sending_paused` is 1, `<root>/shared/sending-paused.json` says who and why) "
                out += "uploads are accepted and every message stays queued. Fix the credentials (`emmyops secrets push`, then restart), "
                out += "then `emmyops incident resume-sending --host HOST`; retry the messages that failed on the refusal from the batch page (Retry failed) "
                out += "or `POST /api/batches/BATCH/retry-failed`.\n\n"
            }
        }
        out += "**How to stop it.** `emmyops incident freeze \(kind.rawValue) --host HOST` stops it for a host now; "
        out += "`emmyops incident ack \(kind.rawValue) --host HOST` resumes it (also after a freeze the budget caused). "
        out += "To change it for good, set `incident.playbooks.\(kind.rawValue)` in the spec (`[]` turns it off).\n\n"
        return out
    }
}
