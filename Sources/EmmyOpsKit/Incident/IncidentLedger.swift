import Foundation
import GRDB

/// The durable record of incident response: every notification as received, every playbook
/// run with its steps and outcomes, and every freeze with its acknowledgement.
///
/// A notification is written here before anything acts on it, and a step is marked `running`
/// (committed) before it starts, so a crash leaves evidence: `recoverInterrupted()` turns a
/// `running` step into `unknown`, and the worker re-checks before acting again.
public struct IncidentLedger: Sendable {
    public let writer: any DatabaseWriter

    /// Opens (creating) `incident.sqlite` under `directory`.
    public static func open(directory: String) throws -> IncidentLedger {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: (directory as NSString).appendingPathComponent("incident.sqlite"), configuration: configuration)
        return try IncidentLedger(pool)
    }

    public static func inMemory() throws -> IncidentLedger { try IncidentLedger(DatabaseQueue()) }

    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Named migrations; a shipped migration is never edited, only followed by a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-12-01 notifications, runs, steps, freezes") { db in
            try db.execute(sql: """
                CREATE TABLE notification (
                    id INTEGER PRIMARY KEY,
                    received_at REAL NOT NULL,
                    fingerprint TEXT NOT NULL,
                    starts_at TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
                    alertname TEXT NOT NULL,
                    kind TEXT,
                    host TEXT,
                    labels TEXT NOT NULL,
                    duplicate INTEGER NOT NULL CHECK (duplicate IN (0, 1))
                );
                CREATE INDEX notification_alert ON notification(fingerprint, starts_at, status);

                CREATE TABLE run (
                    id INTEGER PRIMARY KEY,
                    notification_id INTEGER REFERENCES notification(id),
                    kind TEXT NOT NULL,
                    host TEXT,
                    fingerprint TEXT,
                    starts_at TEXT,
                    severity TEXT NOT NULL,
                    summary TEXT NOT NULL DEFAULT '',
                    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'canceled', 'frozen', 'escalated')),
                    created_at REAL NOT NULL,
                    not_before REAL NOT NULL DEFAULT 0,
                    note TEXT
                );
                -- One playbook per alert occurrence: duplicates can never start a second one.
                CREATE UNIQUE INDEX run_alert ON run(fingerprint, starts_at) WHERE fingerprint IS NOT NULL;
                CREATE INDEX run_state ON run(state, not_before);

                CREATE TABLE step (
                    id INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES run(id),
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'ok', 'failed', 'skipped', 'unknown', 'canceled')),
                    detail TEXT,
                    started_at REAL,
                    finished_at REAL,
                    UNIQUE (run_id, position)
                );

                CREATE TABLE freeze (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,
                    host TEXT NOT NULL,
                    frozen_at REAL NOT NULL,
                    reason TEXT NOT NULL,
                    acked_at REAL,
                    acked_by TEXT
                );
                -- At most one open freeze per alert and host.
                CREATE UNIQUE INDEX freeze_open ON freeze(kind, host) WHERE acked_at IS NULL;
                """)
        }
        return migrator
    }

    // MARK: - Records

    public enum StepState: String, Sendable, Codable { case pending, running, ok, failed, skipped, unknown, canceled }
    public enum RunState: String, Sendable, Codable { case pending, running, done, canceled, frozen, escalated }

    public struct Step: Sendable, Codable, Hashable {
        public var id: Int64
        public var position: Int
        public var name: PlaybookStep
        public var state: StepState
        public var detail: String?
        public var startedAt: Date?
        public var finishedAt: Date?
    }

    public struct Run: Sendable, Codable, Hashable {
        public var id: Int64
        public var kind: AlertKind.RawValue
        public var host: String?
        public var fingerprint: String?
        public var startsAt: String?
        public var severity: String
        public var summary: String
        public var state: RunState
        public var createdAt: Date
        public var notBefore: Date
        public var note: String?
        public var steps: [Step]

        public var alertKind: AlertKind? { AlertKind(rawValue: kind) }
    }

    public struct Notification: Sendable, Codable, Hashable {
        public var id: Int64
        public var receivedAt: Date
        public var fingerprint: String
        public var startsAt: String
        public var status: String
        public var alertname: String
        public var kind: String?
        public var host: String?
        public var duplicate: Bool
    }

    public struct Freeze: Sendable, Codable, Hashable {
        public var kind: String
        public var host: String
        public var frozenAt: Date
        public var reason: String
        public var ackedAt: Date?
    }

    /// What recording one alert of a notification decided.
    public enum Recorded: Sendable, Equatable {
        /// A new firing alert: run `runID` was created.
        case started(runID: Int64)
        /// Seen before (a repeat or an HA duplicate): recorded, nothing started.
        case duplicate
        /// A resolution: this many pending steps were canceled.
        case resolved(canceledSteps: Int)
        /// Recorded, but no playbook applies (an alert emmyops does not know).
        case ignored
    }

    /// The alert as the engine understood it, ready to record.
    public struct Intake: Sendable {
        public var alert: AlertmanagerPayload.Alert
        public var kind: AlertKind?
        public var host: String?
        public var steps: [PlaybookStep]
        public var summary: String

        public init(alert: AlertmanagerPayload.Alert, kind: AlertKind?, host: String?, steps: [PlaybookStep], summary: String) {
            self.alert = alert
            self.kind = kind
            self.host = host
            self.steps = steps
            self.summary = summary
        }
    }

    // MARK: - Writes

    /// Records one alert of a notification in one transaction: the notification itself always,
    /// then a new run for a first firing, or the cancellation of pending steps for a resolution.
    public func record(_ intake: Intake, at now: Date = Date()) throws -> Recorded {
        try writer.write { db in
            let alert = intake.alert
            let seen = try Bool.fetchOne(db, sql: "SELECT 1 FROM notification WHERE fingerprint = ? AND starts_at = ? AND status = ? LIMIT 1",
                                         arguments: [alert.fingerprint, alert.startsAt, alert.status]) ?? false
            let labels = String(decoding: try JSONEncoder.sorted.encode(alert.labels), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO notification (received_at, fingerprint, starts_at, status, alertname, kind, host, labels, duplicate)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [now.timeIntervalSince1970, alert.fingerprint, alert.startsAt, alert.status, alert.name,
                                 intake.kind?.rawValue, intake.host, labels, seen])
            let notificationID = db.lastInsertedRowID
            if seen { return .duplicate }
            if alert.isResolved {
                let steps = try Self.cancelPending(db, fingerprint: alert.fingerprint, startsAt: alert.startsAt, at: now)
                return .resolved(canceledSteps: steps)
            }
            guard let kind = intake.kind else { return .ignored }
            // A resolution may overtake its firing (Alertmanager retries, clocks): then nothing starts.
            let alreadyResolved = try Bool.fetchOne(db, sql: "SELECT 1 FROM notification WHERE fingerprint = ? AND starts_at = ? AND status = 'resolved' LIMIT 1",
                                                    arguments: [alert.fingerprint, alert.startsAt]) ?? false
            if alreadyResolved { return .duplicate }
            let runID = try Self.insertRun(db, notificationID: notificationID, kind: kind, host: intake.host, fingerprint: alert.fingerprint,
                                           startsAt: alert.startsAt, severity: alert.labels["severity"] ?? "warning", summary: intake.summary,
                                           steps: intake.steps, at: now)
            return .started(runID: runID)
        }
    }

    /// A run started by hand (`incident handle`, `incident monitor`), without a notification.
    public func startRun(kind: AlertKind, host: String?, severity: String, summary: String, steps: [PlaybookStep], at now: Date = Date()) throws -> Int64 {
        try writer.write { db in
            try Self.insertRun(db, notificationID: nil, kind: kind, host: host, fingerprint: nil, startsAt: nil, severity: severity,
                               summary: summary, steps: steps, at: now)
        }
    }

    private static func insertRun(_ db: Database, notificationID: Int64?, kind: AlertKind, host: String?, fingerprint: String?, startsAt: String?,
                                  severity: String, summary: String, steps: [PlaybookStep], at now: Date) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO run (notification_id, kind, host, fingerprint, starts_at, severity, summary, state, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
            """, arguments: [notificationID, kind.rawValue, host, fingerprint, startsAt, severity, summary, now.timeIntervalSince1970])
        let runID = db.lastInsertedRowID
        for (position, step) in steps.enumerated() {
            try db.execute(sql: "INSERT INTO step (run_id, position, name, state) VALUES (?, ?, ?, 'pending')",
                           arguments: [runID, position, step.rawValue])
        }
        return runID
    }

    private static func cancelPending(_ db: Database, fingerprint: String, startsAt: String, at now: Date) throws -> Int {
        try db.execute(sql: """
            UPDATE step SET state = 'canceled', detail = 'the alert resolved', finished_at = ?
            WHERE state = 'pending' AND run_id IN (SELECT id FROM run WHERE fingerprint = ? AND starts_at = ?)
            """, arguments: [now.timeIntervalSince1970, fingerprint, startsAt])
        let count = db.changesCount
        try db.execute(sql: "UPDATE run SET state = 'canceled', note = 'the alert resolved' WHERE fingerprint = ? AND starts_at = ? AND state = 'pending'",
                       arguments: [fingerprint, startsAt])
        return count
    }

    /// After a crash: a step that was running may or may not have happened. It becomes
    /// `unknown` (counted against the budget if it was a remedy) and its run is picked up again.
    @discardableResult
    public func recoverInterrupted(at now: Date = Date()) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "UPDATE step SET state = 'unknown', detail = 'interrupted: emmyops stopped while it ran', finished_at = ? WHERE state = 'running'",
                           arguments: [now.timeIntervalSince1970])
            let steps = db.changesCount
            try db.execute(sql: "UPDATE run SET state = 'pending' WHERE state = 'running'")
            return steps
        }
    }

    public func markStep(_ id: Int64, _ state: StepState, detail: String? = nil, at now: Date = Date()) throws {
        try writer.write { db in
            let column = state == .running ? "started_at" : "finished_at"
            try db.execute(sql: "UPDATE step SET state = ?, detail = coalesce(?, detail), \(column) = ? WHERE id = ?",
                           arguments: [state.rawValue, detail, now.timeIntervalSince1970, id])
        }
    }

    /// Ends a run; `remaining` is what happens to its steps still pending.
    public func finishRun(_ id: Int64, _ state: RunState, note: String? = nil, remaining: StepState = .skipped, at now: Date = Date()) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE step SET state = ?, detail = coalesce(detail, ?), finished_at = ? WHERE run_id = ? AND state = 'pending'",
                           arguments: [remaining.rawValue, note, now.timeIntervalSince1970, id])
            try db.execute(sql: "UPDATE run SET state = ?, note = coalesce(?, note) WHERE id = ?", arguments: [state.rawValue, note, id])
        }
    }

    public func setRunState(_ id: Int64, _ state: RunState, notBefore: Date? = nil) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE run SET state = ?, not_before = coalesce(?, not_before) WHERE id = ?",
                           arguments: [state.rawValue, notBefore?.timeIntervalSince1970, id])
        }
    }

    /// Freezes automation for `kind` on `host`; false when it already was.
    public func freeze(kind: AlertKind, host: String, reason: String, at now: Date = Date()) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO freeze (kind, host, frozen_at, reason) VALUES (?, ?, ?, ?)",
                           arguments: [kind.rawValue, host, now.timeIntervalSince1970, reason])
            return db.changesCount > 0
        }
    }

    /// Lifts the freezes of `kind` (on `host`, or on every host); the number lifted.
    public func acknowledge(kind: AlertKind, host: String?, by who: String, at now: Date = Date()) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "UPDATE freeze SET acked_at = ?, acked_by = ? WHERE acked_at IS NULL AND kind = ? AND (? IS NULL OR host = ?)",
                           arguments: [now.timeIntervalSince1970, who, kind.rawValue, host, host])
            return db.changesCount
        }
    }

    // MARK: - Reads

    /// The oldest pending run whose backoff has passed.
    public func nextRunnable(at now: Date = Date()) throws -> Run? {
        try writer.read { db in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE state = 'pending' AND not_before <= ? ORDER BY id LIMIT 1",
                                        arguments: [now.timeIntervalSince1970])
            return try id.flatMap { try Self.run(db, id: $0) }
        }
    }

    /// When the earliest pending run becomes runnable, if any is waiting.
    public func nextWake() throws -> Date? {
        try writer.read { db in
            try Double.fetchOne(db, sql: "SELECT min(not_before) FROM run WHERE state = 'pending'").map(Date.init(timeIntervalSince1970:))
        }
    }

    public func run(_ id: Int64) throws -> Run? {
        try writer.read { db in try Self.run(db, id: id) }
    }

    private static func run(_ db: Database, id: Int64) throws -> Run? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else { return nil }
        let steps = try Row.fetchAll(db, sql: "SELECT * FROM step WHERE run_id = ? ORDER BY position", arguments: [id]).map { step in
            Step(id: step["id"], position: step["position"], name: PlaybookStep(rawValue: step["name"]) ?? .notify,
                 state: StepState(rawValue: step["state"]) ?? .unknown, detail: step["detail"],
                 startedAt: (step["started_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                 finishedAt: (step["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
        return Run(id: row["id"], kind: row["kind"], host: row["host"], fingerprint: row["fingerprint"], startsAt: row["starts_at"],
                   severity: row["severity"], summary: row["summary"], state: RunState(rawValue: row["state"]) ?? .pending,
                   createdAt: Date(timeIntervalSince1970: row["created_at"]), notBefore: Date(timeIntervalSince1970: row["not_before"]),
                   note: row["note"], steps: steps)
    }

    /// Whether a resolution of this alert occurrence was recorded.
    public func isResolved(fingerprint: String?, startsAt: String?) throws -> Bool {
        guard let fingerprint, let startsAt else { return false }
        return try writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM notification WHERE fingerprint = ? AND starts_at = ? AND status = 'resolved' LIMIT 1",
                              arguments: [fingerprint, startsAt]) ?? false
        }
    }

    /// Times of the restarts and rollbacks tried for `kind` on `host` since `since` (an
    /// `unknown` one counts: it may have happened), oldest first.
    public func remedyAttempts(kind: AlertKind, host: String, since: Date) throws -> [Date] {
        try writer.read { db in
            try Double.fetchAll(db, sql: """
                SELECT coalesce(step.started_at, step.finished_at) AS at FROM step JOIN run ON run.id = step.run_id
                WHERE run.kind = ? AND run.host = ? AND step.name IN ('restart', 'rollback')
                  AND step.state IN ('running', 'ok', 'failed', 'unknown') AND at >= ?
                ORDER BY at
                """, arguments: [kind.rawValue, host, since.timeIntervalSince1970]).map(Date.init(timeIntervalSince1970:))
        }
    }

    /// The open freeze of `kind` on `host`, if any.
    public func openFreeze(kind: AlertKind, host: String) throws -> Freeze? {
        try freezes(open: true).first { $0.kind == kind.rawValue && $0.host == host }
    }

    /// When automation for `kind` on `host` was last acknowledged back on.
    public func lastAcknowledged(kind: AlertKind, host: String) throws -> Date? {
        try writer.read { db in
            try Double.fetchOne(db, sql: "SELECT max(acked_at) FROM freeze WHERE kind = ? AND host = ?", arguments: [kind.rawValue, host])
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func freezes(open: Bool) throws -> [Freeze] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM freeze \(open ? "WHERE acked_at IS NULL" : "") ORDER BY id").map { row in
                Freeze(kind: row["kind"], host: row["host"], frozenAt: Date(timeIntervalSince1970: row["frozen_at"]), reason: row["reason"],
                       ackedAt: (row["acked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func notifications(limit: Int = 200) throws -> [Notification] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM notification ORDER BY id DESC LIMIT ?) ORDER BY id", arguments: [limit]).map { row in
                Notification(id: row["id"], receivedAt: Date(timeIntervalSince1970: row["received_at"]), fingerprint: row["fingerprint"],
                             startsAt: row["starts_at"], status: row["status"], alertname: row["alertname"], kind: row["kind"],
                             host: row["host"], duplicate: row["duplicate"])
            }
        }
    }

    public func runs(limit: Int = 200) throws -> [Run] {
        try writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM (SELECT id FROM run ORDER BY id DESC LIMIT ?) ORDER BY id", arguments: [limit])
                .compactMap { try Self.run(db, id: $0) }
        }
    }
}

extension JSONEncoder {
    /// Sorted keys, unescaped slashes: stable output for ledgers, audit lines and signatures.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
