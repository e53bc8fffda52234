import Crypto
import EmmyApp
@testable import EmmyOpsKit
import Foundation
import GRDB

/// A data directory holding a real EmmyApp database, a file target, a spec naming both, and an
/// age key pair made by Debian's `age-keygen`.
struct BackupWorld {
    let root: URL
    var dataDirectory: String { root.appendingPathComponent("data").path }
    var targetDirectory: String { root.appendingPathComponent("target").path }
    var identityFile: String { root.appendingPathComponent("identity.txt").path }
    var specPath: String { root.appendingPathComponent("emmy.yaml").path }
    var databasePath: String { (dataDirectory as NSString).appendingPathComponent("emmy.sqlite") }
    let recipient: String

    static let ageKeygen = ProcessRunner.which("age-keygen")
    static let age = ProcessRunner.which("age")
    static let zstd = ProcessRunner.which("zstd")

    /// `messages` rows of message, spread over batches of 1,000; random bodies do not compress.
    init(messages: Int = 2_000, bodyBytes: Int = 120, randomBodies: Bool = false) throws {
        root = try CLI.temporaryDirectory()
        let keygen = try ProcessRunner().run(Self.ageKeygen ?? "/usr/bin/age-keygen", ["-o", root.appendingPathComponent("identity.txt").path], timeout: 30)
        guard keygen.status == 0, let line = keygen.stderr.split(separator: "\n").first(where: { $0.hasPrefix("Public key: ") }) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "age-keygen failed: \(keygen.stderr)"])
        }
        recipient = String(line.dropFirst("Public key: ".count))
        try """
        version: 1
        backup:
          target: file://\(root.appendingPathComponent("target").path)
          recipients: [\(recipient)]
          keep: { last: 2, daily: 2, weekly: 1, monthly: 1 }
        """.write(toFile: specPath, atomically: true, encoding: .utf8)
        let database = try AppDatabase.open(directory: dataDirectory)
        try Self.insert(messages, bodyBytes: bodyBytes, into: database.writer, batchPrefix: "b", random: randomBodies)
        try database.writer.close()
    }

    static func insert(_ messages: Int, bodyBytes: Int, into writer: any DatabaseWriter, batchPrefix: String, random: Bool = false) throws {
        let fixed = String(String(repeating: "Hello from emmy ", count: bodyBytes / 16 + 1).prefix(bodyBytes))
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        func body() -> String {
            guard random else { return fixed }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(bodyBytes + 8)
            while bytes.count < bodyBytes {
                var bits = generator.next()
                for _ in 0..<8 {
                    bytes.append(alphabet[Int(bits & 63)])
                    bits >>= 8
                }
            }
            return String(decoding: bytes.prefix(bodyBytes), as: UTF8.self)
        }
        try writer.write { db in
            let now = Date().timeIntervalSince1970
            for batch in 0..<max(1, (messages + 999) / 1000) {
                let id = "\(batchPrefix)\(batch)"
                try db.execute(sql: "INSERT INTO batch (id, created_at, source, template) VALUES (?, ?, 'json', 'Hi {name}')", arguments: [id, now])
                let statement = try db.makeStatement(sql: """
                    INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'GSM-7', 1, 'queued', ?, ?)
                    """)
                for row in 0..<min(1000, messages - batch * 1000) {
                    try statement.execute(arguments: [id, row, "+2547\(String(format: "%08d", batch * 1000 + row))", "\(body()) \(row)", row, now, now])
                }
            }
        }
    }

    /// Runs `emmyops backup …` with the world's spec, data directory and identity.
    func backup(_ arguments: [String], identity: Bool = true, environment extra: [String: String] = [:]) throws -> CLI.Result {
        var environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        if identity { environment["EMMY_BACKUP_IDENTITY_FILE"] = identityFile }
        return try CLI.run(["backup"] + arguments + ["--spec", specPath, "--data-dir", dataDirectory], in: root, environment: environment)
    }

    func backups() throws -> Backups {
        Backups(target: try FileTarget(directory: targetDirectory), recipients: [try AgeRecipient(recipient)],
                identities: try AgeIdentity.parseFile(String(contentsOfFile: identityFile, encoding: .utf8)),
                dataDirectory: dataDirectory, appVersion: "test")
    }

    /// SHA-256 of the database file and its row counts: "unchanged" means both are equal.
    func fingerprint() throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: databasePath))
        let counts = try DatabaseSnapshot.inspect(databasePath).tables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() + " " + counts.joined(separator: ",")
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
