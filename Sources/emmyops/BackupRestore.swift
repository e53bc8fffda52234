import ArgumentParser
import EmmyApp
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct BackupRestore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Replace the database with a verified restore of a backup; the replaced one is kept aside.",
            discussion: """
            The backup is restored into a new file and checked like `verify`; only then is it \
            swapped in. With `emmyops supervise` running for the data directory the supervisor \
            drains and stops the app, the files are swapped, the app starts, and restore waits \
            until it is ready. Without a supervisor, stop the app first. Any failure before the \
            swap leaves the running database untouched.
            """)

        @OptionGroup var options: BackupOptions

        @Argument(help: "The backup id (see `backup list`).")
        var id: String?

        @Flag(name: .long, help: "Restore the newest backup that passed `verify`.")
        var latestVerified = false

        @Flag(name: .long, help: "Restore and check into a scratch file, swap nothing.")
        var dryRun = false

        @Option(name: .long, help: ArgumentHelp("Seconds to wait for the supervised app to come back ready.", valueName: "seconds"))
        var readyTimeout: Double = 120

        func validate() throws {
            if (id == nil) == !latestVerified { throw ValidationError("name a backup id or pass --latest-verified (one of them)") }
        }

        func run() async throws {
            var remote = ["--ready-timeout", String(readyTimeout)] + (dryRun ? ["--dry-run"] : [])
            remote += id.map { ["--", $0] } ?? ["--latest-verified"]
            if try options.runRemotely("restore", remote, needsIdentity: true) { return }
            PrivateFiles.restrictUmask()
            let spec = try options.loadSpec()
            let backups = try options.backups(spec, needIdentity: true)
            let dataDirectory = options.dataDirectory
            // A deployed host's app runs under the serving release's supervisor, on its slot port.
            let supervision = options.deployed?.supervision
                ?? (stateFile: "\(dataDirectory)/supervise.json", port: ServerEnvironment.current.port(nil, spec: spec))
            let supervisor = try? SupervisorStatus.read(supervision.stateFile)
            let supervised = supervisor.map { $0.supervisorAlive && !$0.isStale } ?? false
            // Without a supervisor to stop it, an app holding the database must be stopped first;
            // checked before the download and again just before the swap.
            func refuseIfHeld() throws {
                let holders = DatabaseSwap.processesHolding(backups.databasePath)
                if !holders.isEmpty {
                    throw BackupError.restoreRefused("process \(holders.map(String.init).joined(separator: ", ")) has \(backups.databasePath) open; stop the app, or run it under `emmyops supervise`, which restore stops and starts")
                }
            }
            if !supervised, !dryRun { try refuseIfHeld() }
            let outcome = try await backups.restore(id.map(Backups.Selector.id) ?? .latestVerified, dryRun: dryRun) { restored, backupID in
                guard supervised, let supervisor else {
                    try refuseIfHeld()
                    return try DatabaseSwap.swap(restored: restored, into: backups.databasePath)
                }
                return try await SupervisedSwap(dataDirectory: dataDirectory, supervisor: supervisor.state,
                                                readyURL: "http://127.0.0.1:\(supervision.port)\(spec.app.readyPath)",
                                                timeout: readyTimeout).run(restored: restored, id: backupID)
            }
            BackupProgressLine.clear()
            switch options.format {
            case .json: try options.printJSON(outcome)
            case .text:
                if outcome.dryRun {
                    print("dry run: backup \(outcome.id) restores and verifies in \(outcome.restoreSeconds)s; nothing was swapped")
                } else {
                    print("restored backup \(outcome.id) (restore \(outcome.restoreSeconds)s); the replaced database is in \(outcome.replacedTo ?? "?")")
                }
            }
        }
    }
}

/// The swap under a running supervisor: hand the file over, SIGHUP, wait for the swap, for a
/// new child that is healthy, then for its ready path.
struct SupervisedSwap {
    var dataDirectory: String
    var supervisor: SupervisorState
    /// The new child's readiness path on its port.
    var readyURL: String
    var timeout: Double

    func run(restored: String, id: String) async throws -> String {
        try RestoreHandoff.offer(restored, id: id, dataDirectory: dataDirectory)
        let deadline = Date().addingTimeInterval(timeout)
        guard kill(supervisor.pid, SIGHUP) == 0 else {
            RestoreHandoff.withdraw(dataDirectory: dataDirectory)
            throw BackupError.restoreRefused("cannot signal supervisor \(supervisor.pid)")
        }
        var result: RestoreHandoff.Result?
        while result == nil {
            result = RestoreHandoff.readResult(dataDirectory: dataDirectory)
            if result == nil, Date() > deadline {
                RestoreHandoff.withdraw(dataDirectory: dataDirectory)
                // Withdrawn before it ran, or it ran just now: read once more.
                guard let late = RestoreHandoff.readResult(dataDirectory: dataDirectory) else {
                    throw BackupError.restoreRefused("supervisor \(supervisor.pid) did not restart the app within \(Int(timeout))s")
                }
                result = late
            }
            if result == nil { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        guard let result, result.ok, let replaced = result.replacedTo else {
            throw BackupError.restoreRefused(result?.problem ?? "the supervisor could not swap")
        }
        // The /ready gate: the new child answers ready on its port.
        let url = readyURL
        while true {
            if case .success(let status) = await HTTPProbe.get(url, timeout: 2), status == 200 { return replaced }
            if Date() > deadline {
                throw CommandFailure.problem("the restored database is in place (the old one is in \(replaced)), but \(url) is not ready after \(Int(timeout))s")
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }
}
