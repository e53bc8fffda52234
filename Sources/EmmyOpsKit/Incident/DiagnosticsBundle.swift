import EmmyApp
import Foundation
import GRDB

/// A tar.gz of what an on-call engineer reads first: supervisor status, the last log lines,
/// `/health` and `/ready`, a `/metrics` snapshot, releases, the audit tail, `df`/`free`/`uptime`,
/// and the database's size and `PRAGMA quick_check`. Each part is collected on its own: one
/// that fails says why in its file, and the rest are still collected.
public enum DiagnosticsBundle {
    public static func collect(_ target: IncidentTarget, health: HealthReport, into directory: String,
                               at now: Date = Date()) throws -> (path: String, summary: String) {
        let name = "diagnostics-\(target.host.name)-\(DateText.compact(now))"
        let folder = (directory as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func write(_ file: String, _ text: String) {
            _ = FileManager.default.createFile(atPath: folder + "/" + file, contents: Data(text.utf8))
        }
        func get(_ path: String) -> String {
            switch HTTPProbe.request(target.appURL + path, timeout: 3) {
            case .success(let response): "HTTP \(response.status)\n\(response.body)"
            case .failure(let failure): "no answer: \(failure)"
            }
        }
        write("summary.txt", health.summary + "\n")
        write("supervisor.json", (try? SupervisorStatus.read(target.supervisorStateFile)).flatMap { $0 }.flatMap { try? String(decoding: $0.json(), as: UTF8.self) }
              ?? "no supervisor state at \(target.supervisorStateFile)\n")
        write("log-tail.txt", target.logFile.map { HostActivation.tail($0, lines: 200) } ?? "no active release, so no release log\n")
        write("health.txt", "GET \(target.spec.app.healthPath)\n\(get(target.spec.app.healthPath))\n\nGET \(target.spec.app.readyPath)\n\(get(target.spec.app.readyPath))\n")
        write("metrics.txt", get(target.spec.app.metricsPath))
        let releases = HostActivation.listing(target.layout)
        write("releases.json", (try? String(decoding: JSONEncoder.sorted.encode(releases), as: UTF8.self)) ?? "")
        write("audit-tail.txt", HostActivation.tail(target.layout.audit, lines: 50) + "\n")
        var system = ""
        for argv in [["df", "-h"], ["free", "-m"], ["uptime"]] {
            let result = try? LocalRunner().run(argv, timeout: 10)
            system += "$ \(argv.joined(separator: " "))\n\(result?.stdout ?? "")\(result?.stderr ?? "")\n"
        }
        write("system.txt", system)
        let database = databaseReport(target.database)
        write("database.txt", database + "\n")

        let archive = folder + ".tar.gz"
        let tar = try LocalRunner().run(["tar", "-czf", archive, "-C", directory, name], timeout: 60)
        guard tar.status == 0 else { throw HostActionFailure("tar failed: \(tar.stderr)") }
        return (archive, "\(health.summary); database \(database); releases: current \(releases.current ?? "none")")
    }

    /// Size and `PRAGMA quick_check` of the app's database, opened read-only.
    static func databaseReport(_ path: String) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int else {
            return "absent (\(path))"
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(2)
        let check = Result { try DatabaseQueue(path: path, configuration: configuration).read { try String.fetchOne($0, sql: "PRAGMA quick_check") } }
        switch check {
        case .success(let answer): return "\(size) bytes, quick_check \(answer ?? "no answer")"
        case .failure(let error): return "\(size) bytes, quick_check failed: \(error)"
        }
    }
}
