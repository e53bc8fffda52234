import EmmyApp
import Foundation

/// Turns notifications into playbook runs and runs them, one at a time, through the guards.
///
/// Intake (`receive`) only records: the HTTP answer never waits for an action. The worker
/// (`runWorker`) takes the oldest runnable run from the ledger and walks its pending steps;
/// before each step it asks `decide`, which is where every safety rule lives:
///
/// - a resolved alert cancels what is pending, and no destructive step runs for it;
/// - a destructive step needs exactly one host, else the run escalates instead;
/// - after an interrupted (`unknown`) step the app is looked at again before anything is redone;
/// - restarts and rollbacks spend the per-host, per-alert budget, with backoff between them;
///   when it is spent automation freezes, escalates once, and stays frozen until `ack`;
/// - a `check` that finds the app healthy ends the run: nothing more is needed.
public actor IncidentEngine {
    public let spec: Spec
    public let ledger: IncidentLedger
    let actions: any HostActions
    let notify: @Sendable (IncidentNotice) async -> String
    /// Where diagnostics bundles are written.
    let bundles: String
    public let metrics = IncidentMetrics()
    private let knownAlerts: Set<String>
    private var wakeUp: AsyncStream<Void>.Continuation?

    /// `notify` sends a notice and answers a one-line account of the deliveries.
    public init(spec: Spec, ledger: IncidentLedger, actions: any HostActions, bundles: String,
                notify: @escaping @Sendable (IncidentNotice) async -> String) {
        self.spec = spec
        self.ledger = ledger
        self.actions = actions
        self.bundles = bundles
        self.notify = notify
        knownAlerts = Set(AlertCatalogue(spec: spec).alerts.map(\.name))
    }

    /// The notifier's account of a delivery, for the ledger.
    public static func describe(_ deliveries: [IncidentNotifier.Delivery]) -> String {
        if deliveries.isEmpty { return "no receiver is routed for it" }
        return deliveries.map { delivery in
            switch delivery {
            case .sent(let receiver, let channel): "\(receiver)/\(channel) ok"
            case .failed(let receiver, let channel, let reason): "\(receiver)/\(channel) failed: \(reason)"
            }
        }.joined(separator: "; ")
    }

    // MARK: - Intake

    /// What one notification body led to.
    public struct Receipt: Sendable, Codable, Equatable {
        public var recorded = 0
        public var started = 0
        public var duplicates = 0
        public var resolved = 0
        public var ignored = 0
    }

    public enum IntakeRefusal: Error, Sendable, CustomStringConvertible {
        /// Not one alert of the body is one this spec renders.
        case unknownAlerts([String])
        public var description: String {
            switch self {
            case .unknownAlerts(let names): "no alert emmyops renders for this spec: \(names.joined(separator: ", "))"
            }
        }
    }

    /// Records every alert of a notification, starting a run for each first firing.
    public func receive(_ payload: AlertmanagerPayload, at now: Date = Date()) throws -> Receipt {
        let unknown = payload.alerts.map(\.name).filter { !knownAlerts.contains($0) }
        if !payload.alerts.isEmpty, unknown.count == payload.alerts.count {
            metrics.notification("rejected")
            throw IntakeRefusal.unknownAlerts(Array(Set(unknown)).sorted())
        }
        var receipt = Receipt()
        for alert in payload.alerts {
            let kind = knownAlerts.contains(alert.name) ? AlertRouting.kind(alertname: alert.name) : nil
            let hosts = AlertRouting.hosts(for: alert.labels, kind: kind, in: spec)
            let intake = IncidentLedger.Intake(alert: alert, kind: kind, host: hosts.count == 1 ? hosts[0].name : nil,
                                               steps: kind.map(spec.incident.playbook) ?? [],
                                               summary: alert.annotations["summary"] ?? alert.name)
            let recorded = try ledger.record(intake, at: now)
            receipt.recorded += 1
            switch recorded {
            case .started: receipt.started += 1
            case .duplicate: receipt.duplicates += 1
            case .resolved: receipt.resolved += 1
            case .ignored: receipt.ignored += 1
            }
            metrics.notification(recorded == .duplicate ? "duplicate" : alert.status)
            if case .resolved = recorded, let kind, let notice = resolvedNotice(alert, kind: kind) {
                // After the answer: the escalation receivers (PagerDuty closes its incident by dedup_key).
                let notify = self.notify
                Task { _ = await notify(notice) }
            }
        }
        wakeUp?.yield()
        return receipt
    }

    /// The all-clear for an alert whose run escalated or froze: people were told, so they are told again.
    private func resolvedNotice(_ alert: AlertmanagerPayload.Alert, kind: AlertKind) -> IncidentNotice? {
        guard let run = ((try? ledger.runs(limit: 200)) ?? []).last(where: { $0.fingerprint == alert.fingerprint && $0.startsAt == alert.startsAt }),
              [.escalated, .frozen].contains(run.state) else { return nil }
        return IncidentNotice(event: .resolved, alert: alert.name, kind: kind, host: run.host, severity: "critical",
                              summary: "resolved: \(run.summary)", details: ["run": String(run.id), "fingerprint": alert.fingerprint])
    }

    // MARK: - Worker

    /// Marks what a previous process left running as `unknown`, then runs runs until cancelled.
    public func runWorker() async {
        _ = try? ledger.recoverInterrupted()
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeUp = continuation
        var wakes = stream.makeAsyncIterator()
        while !Task.isCancelled {
            if await runNext() { continue }
            // Sleep until woken by intake, or until the earliest backoff ends (at most a second).
            let wait = min(1.0, max(0.05, ((try? ledger.nextWake()) ?? nil).map { $0.timeIntervalSinceNow } ?? 1.0))
            let sleeper = Task { try? await Task.sleep(for: .seconds(wait)); continuation.yield() }
            _ = await wakes.next()
            sleeper.cancel()
        }
    }

    /// Runs the oldest runnable run; false when there was none.
    @discardableResult
    public func runNext(at now: Date = Date()) async -> Bool {
        guard let run = try? ledger.nextRunnable(at: now) else { return false }
        await execute(run, at: now)
        return true
    }

    /// A run started by hand, then executed at once.
    public func handle(kind: AlertKind, host: String?) async throws -> IncidentLedger.Run? {
        let id = try ledger.startRun(kind: kind, host: host, severity: spec.alerts[kind].severity.rawValue,
                                     summary: "started by hand", steps: spec.incident.playbook(kind))
        if let run = try ledger.run(id) { await execute(run) }
        return try ledger.run(id)
    }

    // MARK: - Deciding

    /// What to do about one step, and why.
    public enum Decision: Sendable, Equatable {
        case go
        case skip(String)
        /// The app is healthy: the run has nothing more to do.
        case done(String)
        /// Budgeted step too soon after the last attempt.
        case wait(until: Date)
        /// Refuse, tell people; `freeze` when the budget is what ran out.
        case escalate(String, freeze: Bool)
        /// Automation for this alert and host is frozen until `ack`.
        case frozen(String)
    }

    func target(_ host: String?) -> IncidentTarget? {
        host.flatMap { name in spec.hosts.first { $0.name == name } }.map { IncidentTarget(host: $0, spec: spec) }
    }

    /// The guards, in order. `probe` looks at the app when a guard needs to (after an
    /// interrupted step); a dry run passes one that does not act.
    public func decide(_ step: PlaybookStep, kind: AlertKind, host: String?, interrupted: Bool, now: Date,
                       probe: (IncidentTarget) async -> HealthReport) async -> Decision {
        let target = target(host)
        switch step {
        case .notify, .wait:
            return .go
        case .check, .diagnose, .pauseSending, .resumeSending:
            return target == nil ? .skip(noHost(host, kind: kind)) : .go
        case .restart, .rollback, .cleanup:
            break
        }
        guard let target else { return .escalate("\(step.rawValue) refused: \(noHost(host, kind: kind))", freeze: false) }
        if interrupted {
            let report = await probe(target)
            if report.healthy { return .done("healthy after an interrupted step (\(report.summary)); nothing is repeated") }
        }
        if step == .rollback {
            guard spec.sourceMap.isWritten("deploy") else { return .skip("the spec has no deploy: section, so there is no release to return to") }
            guard let deploy = actions.lastDeploy(target), deploy.from != nil,
                  let when = AlertmanagerPayload.time(deploy.when),
                  now.timeIntervalSince(when) <= spec.incident.rollbackWindow.seconds else {
                return .skip("no deploy finished on \(target.host.name) within \(spec.incident.rollbackWindow) (rollback_window)")
            }
        }
        guard step.isBudgeted else { return .go }
        if let freeze = try? ledger.openFreeze(kind: kind, host: target.host.name) {
            return .frozen("automation for \(kind.rawValue) on \(target.host.name) is frozen since \(DateText.iso8601(freeze.frozenAt)): \(freeze.reason); `emmyops incident ack \(kind.rawValue) --host \(target.host.name)` resumes it")
        }
        let budget = RemedyBudget(spec.incident.budget)
        let since = budget.countingFrom(now: now, acknowledged: (try? ledger.lastAcknowledged(kind: kind, host: target.host.name)) ?? nil)
        let attempts = (try? ledger.remedyAttempts(kind: kind, host: target.host.name, since: since)) ?? []
        switch budget.verdict(attempts: attempts, now: now) {
        case .allowed: return .go
        case .backoff(let until): return .wait(until: until)
        case .exhausted(let used):
            return .escalate("budget spent: \(used) restart/rollback attempt(s) for \(kind.rawValue) on \(target.host.name) within \(spec.incident.budget.window)", freeze: true)
        }
    }

    private func noHost(_ host: String?, kind: AlertKind) -> String {
        host == nil ? "the alert maps to no single spec host (its instance/host label names none, or several)" : "host `\(host!)` is not in the spec"
    }

    // MARK: - Executing

    /// `start`: the time the run is considered at (the worker's now; a test's later time).
    private func execute(_ run: IncidentLedger.Run, at start: Date = Date()) async {
        guard let kind = run.alertKind else {
            try? ledger.finishRun(run.id, .canceled, note: "unknown alert kind `\(run.kind)`", remaining: .canceled)
            return
        }
        try? ledger.setRunState(run.id, .running)
        let target = target(run.host)
        var interrupted = run.steps.contains { $0.state == .unknown }
        var remedied = run.steps.contains { $0.name.isBudgeted && [.ok, .unknown].contains($0.state) }
        var findings: [String] = run.steps.compactMap { step in step.detail.map { "\(step.name.rawValue): \($0)" } }
        for step in run.steps where step.state == .pending {
            if (try? ledger.isResolved(fingerprint: run.fingerprint, startsAt: run.startsAt)) == true {
                try? ledger.finishRun(run.id, .canceled, note: "the alert resolved", remaining: .canceled)
                return
            }
            let now = max(Date(), start)
            let decision = await decide(step.name, kind: kind, host: run.host, interrupted: interrupted, now: now) { [actions] target in
                await actions.check(target, until: 0)
            }
            switch decision {
            case .go:
                break
            case .skip(let reason):
                try? ledger.markStep(step.id, .skipped, detail: reason)
                metrics.action(kind, step.name, "skipped")
                findings.append("\(step.name.rawValue): skipped, \(reason)")
                continue
            case .done(let reason):
                try? ledger.markStep(step.id, .skipped, detail: reason)
                try? ledger.finishRun(run.id, .done, note: reason)
                return
            case .wait(let until):
                try? ledger.setRunState(run.id, .pending, notBefore: until)
                return
            case .frozen(let reason):
                try? ledger.markStep(step.id, .skipped, detail: reason)
                metrics.action(kind, step.name, "frozen")
                try? ledger.finishRun(run.id, .frozen, note: reason)
                return
            case .escalate(let reason, let freeze):
                await escalate(run, kind: kind, step: step, target: target, reason: reason, freeze: freeze, findings: findings)
                return
            }

            // The guards may have taken a moment (a probe): a resolution that came meanwhile still wins.
            if step.name.isDestructive, (try? ledger.isResolved(fingerprint: run.fingerprint, startsAt: run.startsAt)) == true {
                try? ledger.finishRun(run.id, .canceled, note: "the alert resolved", remaining: .canceled)
                return
            }
            try? ledger.markStep(step.id, .running)
            let started = Date()
            let (outcome, detail) = await perform(step.name, run: run, kind: kind, target: target, remedied: remedied, findings: findings)
            try? ledger.markStep(step.id, outcome == "ok" || outcome == "healthy" ? .ok : outcome == "skipped" ? .skipped : .failed, detail: detail)
            metrics.action(kind, step.name, outcome)
            findings.append("\(step.name.rawValue): \(detail)")
            if let target, ![.check, .notify, .wait].contains(step.name) {
                actions.audit(target, IncidentAuditEntry(when: started, host: target.host.name, step: step.name, alert: kind.rawValue,
                                                         fingerprint: run.fingerprint, result: ["ok", "skipped"].contains(outcome) ? outcome : "failed",
                                                         durationS: Date().timeIntervalSince(started), detail: detail))
            }
            if step.name.isBudgeted { remedied = true }
            if step.name == .check {
                interrupted = false
                if outcome == "healthy" {
                    try? ledger.finishRun(run.id, .done, note: "healthy: \(detail)")
                    return
                }
            }
            if step.name == .wait, outcome == "ok" {
                try? ledger.finishRun(run.id, .done, note: detail)
                return
            }
        }
        try? ledger.finishRun(run.id, .done)
    }

    /// Does one step; answers the metric outcome and a one-line detail for the ledger.
    private func perform(_ step: PlaybookStep, run: IncidentLedger.Run, kind: AlertKind, target: IncidentTarget?, remedied: Bool,
                         findings: [String]) async -> (String, String) {
        switch step {
        case .check:
            guard let target else { return ("failed", "no host") }
            // Right after a remedy the app needs a moment to come back: wait for it, bounded.
            let report = await actions.check(target, until: remedied ? spec.incident.waitTimeout.seconds : 0)
            return (report.healthy ? "healthy" : "unhealthy", report.summary)
        case .diagnose:
            guard let target else { return ("failed", "no host") }
            do {
                let bundle = try await actions.diagnose(target, into: bundles)
                return ("ok", "\(bundle.summary) (bundle \(bundle.path))")
            } catch {
                return ("failed", "\(error)")
            }
        case .restart:
            guard let target else { return ("failed", "no host") }
            do { return ("ok", try await actions.restart(target)) } catch { return ("failed", "\(error)") }
        case .rollback:
            guard let target, let from = actions.lastDeploy(target)?.from else { return ("failed", "no previous release") }
            do { return ("ok", try await actions.rollback(target, to: from)) } catch { return ("failed", "\(error)") }
        case .cleanup:
            guard let target else { return ("failed", "no host") }
            do { return ("ok", try await actions.cleanup(target)) } catch { return ("failed", "\(error)") }
        case .notify:
            let notice = IncidentNotice(event: .action, alert: AlertRouting.alertNames[kind] ?? kind.rawValue, kind: kind, host: run.host,
                                        severity: run.severity, summary: "\(run.summary) Automation: \(findings.suffix(4).joined(separator: "; "))",
                                        details: ["run": String(run.id), "fingerprint": run.fingerprint ?? ""])
            let account = await notify(notice)
            return (account.contains("failed") ? "failed" : "ok", account)
        case .wait:
            let deadline = Date().addingTimeInterval(spec.incident.waitTimeout.seconds)
            while Date() < deadline {
                if (try? ledger.isResolved(fingerprint: run.fingerprint, startsAt: run.startsAt)) == true { return ("ok", "the alert resolved") }
                try? await Task.sleep(for: .milliseconds(500))
            }
            return ("failed", "still firing after \(spec.incident.waitTimeout)")
        case .pauseSending, .resumeSending:
            guard let target else { return ("failed", "no host") }
            do {
                // Automation pauses only on an auth refusal (see `SendingSwitch`); by hand it is unconditional.
                let outcome = step == .pauseSending
                    ? try await actions.pauseSending(target, reason: "\(kind.rawValue) (incident run \(run.id))", onlyIfAuthRefused: true)
                    : try await actions.resumeSending(target)
                return (outcome.changed ? "ok" : "skipped", outcome.detail)
            } catch {
                return ("failed", "\(error)")
            }
        }
    }

    /// Refuses the step, tells the escalation receivers (with the diagnostics summary), and
    /// freezes automation for this alert and host when the budget is what ran out.
    private func escalate(_ run: IncidentLedger.Run, kind: AlertKind, step: IncidentLedger.Step, target: IncidentTarget?,
                          reason: String, freeze: Bool, findings: [String]) async {
        var summary = reason
        if let target {
            if freeze {
                _ = try? ledger.freeze(kind: kind, host: target.host.name, reason: reason)
            }
            let diagnosed = findings.last { $0.hasPrefix("diagnose: ") }
            if let diagnosed {
                summary += ". Diagnostics: \(diagnosed.dropFirst("diagnose: ".count))"
            } else if let bundle = try? await actions.diagnose(target, into: bundles) {
                summary += ". Diagnostics: \(bundle.summary) (bundle \(bundle.path))"
            }
            actions.audit(target, IncidentAuditEntry(when: Date(), host: target.host.name, step: step.name, alert: kind.rawValue,
                                                     fingerprint: run.fingerprint, result: "escalated", durationS: 0, detail: summary))
        }
        summary += freeze ? ". Automation is frozen until `emmyops incident ack \(kind.rawValue)\(target.map { " --host \($0.host.name)" } ?? "")`." : ""
        let notice = IncidentNotice(event: .escalation, alert: AlertRouting.alertNames[kind] ?? kind.rawValue, kind: kind, host: run.host,
                                    severity: "critical", summary: summary, details: ["run": String(run.id), "fingerprint": run.fingerprint ?? ""])
        let account = await notify(notice)
        try? ledger.markStep(step.id, .skipped, detail: "escalated: \(summary) [\(account)]")
        metrics.action(kind, step.name, "escalated")
        try? ledger.finishRun(run.id, freeze ? .frozen : .escalated, note: summary)
    }

    // MARK: - Dry run

    /// One step of a plan, with what the guards would decide now.
    public struct PlannedStep: Sendable, Codable, Equatable {
        public var step: String
        public var destructive: Bool
        public var verdict: String
    }

    /// The playbook for `kind` on `host`, each step with its guard's verdict; acts on nothing.
    public func plan(kind: AlertKind, host: String?) async -> [PlannedStep] {
        var out: [PlannedStep] = []
        for step in spec.incident.playbook(kind) {
            let decision = await decide(step, kind: kind, host: host, interrupted: false, now: Date()) { target in
                HealthReport(host: target.host.name, supervisor: "not looked at in a dry run")
            }
            let verdict: String
            switch decision {
            case .go: verdict = step == .check ? "would look at /health, /ready and the supervisor; healthy ends the run"
                : step == .pauseSending ? "would pause sending only if the host's failures of the last 15 minutes show the provider refusing the credentials (401/403)"
                : step == .notify ? "would tell \((spec.notify.routes[spec.alerts[kind].severity] ?? []).joined(separator: ", ").nonEmpty ?? "nobody (no receiver is routed)")"
                : "would run"
            case .skip(let reason): verdict = "skipped: \(reason)"
            case .done(let reason): verdict = "done: \(reason)"
            case .wait(let until): verdict = "would wait for the backoff until \(DateText.iso8601(until))"
            case .escalate(let reason, let freeze): verdict = "would escalate\(freeze ? " and freeze" : ""): \(reason)"
            case .frozen(let reason): verdict = "frozen: \(reason)"
            }
            out.append(PlannedStep(step: step.rawValue, destructive: step.isDestructive, verdict: verdict))
        }
        return out
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

extension IncidentEngine {
    /// The engine `emmyops incident` runs: the ledger under `dataDirectory`, actions on this
    /// machine, notices through the spec's receivers.
    public static func standard(spec: Spec, dataDirectory: String) throws -> IncidentEngine {
        let ledger = try IncidentLedger.open(directory: dataDirectory)
        let notifier = IncidentNotifier(spec: spec)
        // One private directory for the SSH control sockets of the hosts that are not this machine.
        let control = (try? SSHTransport.makeControlDirectory()) ?? dataDirectory
        let remote = RemoteHostActions { host in SSHTransport(host: host, settings: spec.ssh, controlDirectory: control) }
        return IncidentEngine(spec: spec, ledger: ledger, actions: RoutedHostActions(remote: remote), bundles: dataDirectory + "/bundles") { notice in
            describe(await notifier.send(notice))
        }
    }
}

extension IncidentEngine {
    /// Starts a run for `kind` on `host` unless one is already pending or running there (the
    /// monitor loop looks every interval; one problem is one run). True when it started one.
    public func startIfIdle(kind: AlertKind, host: String, summary: String) throws -> Bool {
        let busy = try ledger.runs(limit: 50).contains { $0.kind == kind.rawValue && $0.host == host && [.pending, .running].contains($0.state) }
        guard !busy else { return false }
        _ = try ledger.startRun(kind: kind, host: host, severity: spec.alerts[kind].severity.rawValue, summary: summary,
                                steps: spec.incident.playbook(kind))
        wakeUp?.yield()
        return true
    }
}
