import Foundation
import GRDB
import Testing

@testable import EmmyApp

@Suite struct WALCheckpointerTests {
    /// Checkpoints run off the writer: after a commit of more than 1,000 log pages, the pages
    /// reach the database file without any further write.
    @Test func bigCommitsReachTheDatabaseFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try AppDatabase.open(directory: directory)
        let file = (directory as NSString).appendingPathComponent("emmy.sqlite")
        let before = try Self.size(file)
        try await database.writer.write { db in
            try db.execute(sql: "CREATE TABLE filler (data BLOB)")
            for _ in 0..<1500 { try db.execute(sql: "INSERT INTO filler VALUES (zeroblob(4000))") }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while try Self.size(file) < before + 5_000_000, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try Self.size(file) >= before + 5_000_000, "the log was not copied into the database file")
        let rows = try await database.writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM filler") }
        #expect(rows == 1500)
    }

    private static func size(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
