/// What each alert means and what to do first, as RUNBOOK.md renders it.
enum Runbooks {
    static func appDown(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "Prometheus could not scrape `\(spec.app.metricsPath)` on port \(spec.app.port): the process is down, hung, or unreachable.",
            firstSteps: [
                "Check liveness from the host: `curl -sS http://127.0.0.1:\(spec.app.port)\(spec.app.healthPath)`.",
                "See whether the supervisor is restarting it: `emmyops status` on the host.",
                "Read the last log lines of the current release before restarting anything.",
                "If the last deploy is the cause, `emmyops rollback --host HOST`.",
            ])
    }

    static func databaseDown(_ spec: Spec) -> RunbookEntry {
        if PostgresExporter.enabled(spec) {
            return RunbookEntry(
                meaning: "EmmyApp's probe of its PostgreSQL database fails: uploads and the send queue are stalled.",
                firstSteps: [
                    "Check `\(spec.app.readyPath)` and the app log for PostgreSQL errors (connection refused, authentication, TLS).",
                    "If PostgresDown fires too, the server itself is down: follow its entry; if not, this host cannot reach or log in to it.",
                    "Check the password file the app reads (app.database_password_file or EMMY_DATABASE_PASSWORD) against the server's.",
                ])
        }
        return RunbookEntry(
            meaning: "EmmyApp's database probe fails: uploads and the send queue are stalled.",
            firstSteps: [
                "Check `\(spec.app.readyPath)` and the app log for SQLite errors (disk full, permissions, corruption).",
                "Check free disk space where the data directory lives: `df -h`.",
                "If the file is corrupt, restore the latest verified backup: `emmyops backup restore`.",
            ])
    }

    static func postgresDown(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "postgres_exporter cannot connect to PostgreSQL: every replica's uploads and sends stall with it.",
            firstSteps: [
                "Ask the server directly from a host: `pg_isready -h HOST -p PORT` with app.database's host and port.",
                "On RDS, read the instance's events and status in the console or `aws rds describe-events`; in compose, `docker compose logs postgres`.",
                "Check the exporter's own log: a changed password file or a TLS setting fails its login, not the server.",
            ])
    }

    static func backupStale(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "No backup of this host's database has passed `emmyops backup verify` recently: a lost host would lose data.",
            firstSteps: [
                "List what the target holds and what was verified: `emmyops backup list`.",
                "Read the last run of the backup workflow; a create that failed says why (credentials, target, disk).",
                "Take and prove one now: `emmyops backup create --host HOST`, then `emmyops backup verify --latest --host HOST` with the identity file.",
            ])
    }

    static func highErrorRate(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "A growing share of HTTP requests end in a 5xx: clients' uploads or API calls are failing.",
            firstSteps: [
                "Find the failing routes: `sum by (route, status) (rate(emmy_http_requests_total{job=\"\(spec.appJob)\",status=~\"5..\"}[5m]))`.",
                "Compare the start of the errors with the last deploy in the audit log.",
                "Roll back if a release introduced it: `emmyops rollback --host HOST`.",
            ])
    }

    static func highFailureRate(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "The provider refuses or fails to deliver many messages: recipients are not getting their SMS.",
            firstSteps: [
                "Look at the recorded provider error codes of recent failures in the batch pages.",
                "Check the provider's status page and account balance.",
                "Invalid numbers are rejected at ingest; a spike here usually means the provider or the sender number.",
            ])
    }

    static func slowProcessing(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "Uploaded batches take too long to validate and queue: uploads time out for users.",
            firstSteps: [
                "Check host CPU and disk latency on the dashboard.",
                "Look for unusually large uploads in the batch list.",
                "Check whether the database is contended (many concurrent uploads).",
            ])
    }

    static func rateLimit(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "Clients are sending faster than the configured rate limits allow and receive 429s.",
            firstSteps: [
                "Find which route: `sum by (route) (increase(emmy_http_rate_limited_total{job=\"\(spec.appJob)\"}[5m]))`.",
                "Decide whether it is abuse (leave it) or a legitimate client (raise `app.rate_limits` in the spec and deploy).",
            ])
    }

    static func highCPU(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "A host's CPU has been nearly saturated for several minutes: latency will rise.",
            firstSteps: [
                "Find the busy processes: `top -o %CPU`.",
                "Compare with send throughput on the app dashboard; a large batch can explain it.",
                "If it persists, move to a larger instance type in `infrastructure` and redeploy.",
            ])
    }

    static func highMemory(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "A host is close to running out of memory; the kernel may kill EmmyApp.",
            firstSteps: [
                "Find the largest processes: `ps aux --sort=-rss | head`.",
                "Check for a leak: EmmyApp's `process_resident_memory_bytes` growing steadily.",
            ])
    }

    static func lowDisk(_ spec: Spec) -> RunbookEntry {
        RunbookEntry(
            meaning: "A filesystem is nearly full; SQLite writes will fail when it is.",
            firstSteps: [
                "Find what grew: `du -xh / | sort -h | tail`.",
                "Prune old releases and logs; check that backups are not kept locally.",
                "Grow the volume if the data itself needs the space.",
            ])
    }

    static func budgetBurn(_ spec: Spec, slo: String, tier: String, factor: String) -> RunbookEntry {
        RunbookEntry(
            meaning: "The \(slo) objective's error budget is being spent \(factor)× faster than it can last the budget window (\(tier) tier).",
            firstSteps: [
                "Open the SLO burn panel on the app dashboard to see which window is burning.",
                slo == "availability" ? "Follow EmmyHighErrorRate's steps: find the failing routes." : "Find the slow routes: p95 latency by route on the app dashboard.",
                "If a deploy caused it, roll back first and investigate after.",
            ])
    }
}
