@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 18, defect 10: a batch cut off by kill -9 stayed `complete = 0, accepted = 0` forever.
@Suite struct InterruptedBatchTests {
    /// What a server killed mid-ingest leaves: the batch row, some stored rows, no counts.
    static func cutOffBatch(in database: any AppStore) async throws -> String {
        let id = "cut-off-batch"
        let rejections = [(4, RowError.Kind.invalidNumber), (6, .duplicate)].map { row, kind in
            RejectedContact(error: RowError(position: row, field: "phone", kind: kind, reason: "x"), raw: .none)
        }
        try await TestStore.queue(["+254712345678", "+254712345679", "+254712345680"], batch: id, rejections: rejections, complete: false,
                                  in: database)
        return id
    }

    @Test func startupClosesBatchesADeadRunLeftOpenWithTheirStoredCounts() async throws {
        let database = try await TestStore.make()
        let id = try await Self.cutOffBatch(in: database)
        var config = ServerConfig()
        config.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-test-\(UUID())").path
        let app = try await EmmyServer.buildApplication(config: config, database: TestStore.nextRun(of: database), logger: ServerTests.Harness.quietLogger)
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
