@testable import EmmyApp
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 18, defect 10: a batch cut off by kill -9 stayed `complete = 0, accepted = 0` forever.
@Suite struct InterruptedBatchTests {
    /// What a server killed mid-ingest leaves: the batch row, some stored rows, no counts.
    static func cutOffBatch(in database: AppDatabase) async throws -> String {
        let id = "cut-off-batch"
        try await database.writer.write { db in
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "INSERT INTO batch (id, created_at, source, template) VALUES (?, ?, 'csv', 'Hi {name}')", arguments: [id, now])
            for (row, phone) in [(2, "+254712345678"), (3, "+254712345679"), (5, "+254712345680")] {
                try db.execute(sql: """
                    INSERT INTO message (batch_id, row, phone, body, body_hash, encoding, segments, status, created_at, updated_at)
                    VALUES (?, ?, ?, 'Hi', 1, 'GSM-7', 1, 'queued', ?, ?)
                    """, arguments: [id, row, phone, now, now])
            }
            for (row, kind) in [(4, "invalid_number"), (6, "duplicate")] {
                try db.execute(sql: "INSERT INTO rejection (batch_id, row, field, kind, reason, raw) VALUES (?, ?, 'phone', ?, 'x', '')",
                               arguments: [id, row, kind])
            }
        }
        return id
    }

    @Test func startupClosesBatchesADeadRunLeftOpenWithTheirStoredCounts() async throws {
        let database = try AppDatabase.inMemory()
        let id = try await Self.cutOffBatch(in: database)
        var config = ServerConfig()
        config.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-test-\(UUID())").path
        let app = try await EmmyServer.buildApplication(config: config, database: database, logger: ServerTests.Harness.quietLogger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/batches/\(id)", method: .get) { response in
                let batch = try ServerTests.object(response)
                #expect(batch["complete"] as? Bool == true, "\(batch)")
                #expect(batch["interrupted"] as? Bool == true)
                #expect(batch["accepted"] as? Int == 3)
                #expect(batch["rejected"] as? Int == 1)
                #expect(batch["duplicates"] as? Int == 1)
            }
        }
        #expect(try await database.closeInterruptedBatches() == 0, "a finished batch is left alone")
    }
}
