import EmmyApp
import Foundation
import GRDB
import Logging

/// Pausing and resuming a host's sending (EmmyApp's `SendingPause` marker in the app's data
/// directory), and the evidence automation needs before it pauses.
///
/// Automation pauses only when the provider refuses the app's credentials: then every attempt
/// fails the same way, and each failure spends a message's attempts and ends it `failed`, so
/// holding everything queued until a person fixes the credentials loses nothing. A provider
/// answering 5xx, 429 or timing out is retried with backoff by the app itself; pausing there
/// would only delay what recovers on its own.
public enum SendingSwitch {
    /// What a pause or resume did, in one line the host prints and the engine reads back.
    public struct Outcome: Sendable, Equatable {
        /// The switch changed position (paused, or resumed).
        public var changed: Bool
        public var detail: String

        public init(changed: Bool, detail: String) {
            self.changed = changed
            self.detail = detail
        }

        /// `changed: <detail>` or `unchanged: <detail>`: the one line `incident pause-sending` prints.
        public var line: String { "\(changed ? "changed" : "unchanged"): \(detail)" }

        public init?(line: String) {
            for (prefix, changed) in [("changed: ", true), ("unchanged: ", false)] where line.hasPrefix(prefix) {
                self.init(changed: changed, detail: String(line.dropFirst(prefix.count)))
                return
            }
            return nil
        }
    }

    /// Error codes that mean the provider refused the credentials: HTTP 401/403 without a
    /// provider body (`http_401`, `http_403`, as EmmyApp records them) and Twilio's 20003
    /// ("Authentication Error", sent with 401).
    public static let authRefusedCodes = ["http_401", "http_403", "20003"]

    /// How far back failures count as evidence: the high failure rate alert's window.
    public static let evidenceWindow: TimeInterval = 15 * 60

    /// Messages whose last attempt within the window failed with an auth refusal, by code, read
    /// from the store the host's app uses: the spec's `app.database` with the EMMY_DATABASE*
    /// variables and the password the app itself reads (`IncidentTarget.appEnvironment`).
    /// Read-only on both engines, and without migrations: the app owns its schema.
    public static func authRefusals(_ target: IncidentTarget, now: Date = Date()) async throws -> [String: Int] {
        let environment = target.appEnvironment
        let since = now.addingTimeInterval(-evidenceWindow)
        switch try target.spec.app.overridingDatabase(from: environment).databaseChoice() {
        case .sqlite:
            return try authRefusals(database: target.database, since: since)
        case .postgres(let settings):
            let password = try settings.password(environment: environment)
            // The query's failure is thrown to the step that asked; the pool has nobody to tell
            // about its connections in a one-line command.
            let quiet = Logger(label: "emmyops.incident.evidence") { _ in SwiftLogNoOpLogHandler() }
            do {
                return try await PostgresEngine.withReading(settings: settings, password: password, logger: quiet) { engine in
                    try await PostgresStore(engine: engine).providerRefusals(codes: authRefusedCodes, since: since)
                }
            } catch {
                // postgres-nio's own description hides the server's message; the reflection has it.
                throw HostActionFailure("cannot read the failures in \(settings.dsn): \(String(reflecting: error))")
            }
        }
    }

    /// The SQLite file opened read-only, so it is safe while the app writes; no file, no evidence.
    static func authRefusals(database path: String, since: Date) throws -> [String: Int] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration).read { db in
            try ProviderRefusals.count(codes: authRefusedCodes, since: since, in: db)
        }
    }

    /// Pauses `target`'s sending; with `onlyIfAuthRefused`, only when its recent failures show
    /// the provider refusing the credentials.
    public static func pause(_ target: IncidentTarget, reason: String, who: String, onlyIfAuthRefused: Bool, now: Date = Date()) async throws -> Outcome {
        let pause = SendingPause(dataDirectory: target.appDataDirectory)
        var why = reason
        if onlyIfAuthRefused {
            let refusals = try await authRefusals(target, now: now)
            guard !refusals.isEmpty else {
                return Outcome(changed: false, detail: "not paused: no auth refusal (\(authRefusedCodes.joined(separator: ", "))) among the failures of the last \(Int(evidenceWindow / 60)) minutes, so the provider is failing for another reason and the app's retries cover it")
            }
            why += "; the provider refused the credentials: " + refusals.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
        }
        if let existing = pause.marker() {
            return Outcome(changed: false, detail: "already paused since \(existing.since) by \(existing.who): \(existing.reason)")
        }
        try pause.pause(SendingPause.Marker(reason: why, who: who, since: DateText.iso8601(now)))
        return Outcome(changed: true, detail: "paused sending on \(target.host.name) (\(why)); everything stays queued until `emmyops incident resume-sending --host \(target.host.name)`")
    }

    public static func resume(_ target: IncidentTarget) throws -> Outcome {
        let pause = SendingPause(dataDirectory: target.appDataDirectory)
        let marker = pause.marker()
        guard try pause.resume() else { return Outcome(changed: false, detail: "sending on \(target.host.name) was not paused") }
        return Outcome(changed: true, detail: "resumed sending on \(target.host.name) (paused since \(marker?.since ?? "?") by \(marker?.who ?? "?"): \(marker?.reason ?? "?"))")
    }
}
