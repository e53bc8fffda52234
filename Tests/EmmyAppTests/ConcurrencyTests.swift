@testable import EmmyApp
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The seed lost a whole second batch to "database is locked"; here uploads share one writer.
@Suite struct ConcurrencyTests {
    @Test func twoTenThousandContactUploadsStartedTogetherBothSucceed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-concurrent-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var config = ServerConfig()
        config.dataDirectory = directory.path
        config.rateLimits.upload = .init(count: 100, period: 1)
        let database = try await TestStore.make(directory: directory.path)  // on SQLite a real file in WAL mode
        let app = Application(router: try EmmyServer.buildRouter(config: config, database: database, metrics: AppMetrics()),
                              logger: ServerTests.Harness.quietLogger)

        func csv(offset: Int) -> [UInt8] {
            var text = "phone,name\n"
            for index in 0..<10_000 { text += "+2547\(String(format: "%08d", 10_000_000 + offset + index)),N\(index)\n" }
            return Array(text.utf8)
        }
        let first = UploadTests.multipart([("csvFile", "a.csv", csv(offset: 0)), ("message", nil, Array("Hi {name}".utf8))])
        let second = UploadTests.multipart([("csvFile", "b.csv", csv(offset: 50_000)), ("message", nil, Array("Hi {name}".utf8))])
        try await app.test(.router) { client in
            async let a = client.execute(uri: "/upload", method: .post, headers: first.0, body: first.1) { response in
                (response.status, try ServerTests.object(response)["accepted"] as? Int)
            }
            async let b = client.execute(uri: "/upload", method: .post, headers: second.0, body: second.1) { response in
                (response.status, try ServerTests.object(response)["accepted"] as? Int)
            }
            let (resultA, resultB) = try await (a, b)
            #expect(resultA.0 == .accepted && resultA.1 == 10_000)
            #expect(resultB.0 == .accepted && resultB.1 == 10_000)
        }
        let stored = try await database.statusCounts()["queued"]
        #expect(stored == 20_000)
    }

    /// Duplicate lookups run on a read snapshot beside the writer; the writer rechecks what
    /// was committed after it, so two batches racing with the same numbers and text queue
    /// each pair once, whichever way their transactions interleave.
    @Test func racingBatchesWithTheSameNumbersQueueEachOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-race-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var config = ServerConfig()
        config.dataDirectory = directory.path
        config.rateLimits.upload = .init(count: 100, period: 1)
        let database = try await TestStore.make(directory: directory.path)
        let app = Application(router: try EmmyServer.buildRouter(config: config, database: database, metrics: AppMetrics()),
                              logger: ServerTests.Harness.quietLogger)
        var text = "phone,name\n"
        for index in 0..<20_000 { text += "+2547\(String(format: "%08d", 10_000_000 + index * 7)),N\(index)\n" }
        let form = UploadTests.multipart([("csvFile", "a.csv", Array(text.utf8)), ("message", nil, Array("Hi {name}".utf8))])
        try await app.test(.router) { client in
            func upload() async throws -> (accepted: Int, duplicates: Int) {
                try await client.execute(uri: "/upload", method: .post, headers: form.0, body: form.1) { response in
                    let object = try ServerTests.object(response)
                    return (object["accepted"] as? Int ?? -1, object["duplicates"] as? Int ?? -1)
                }
            }
            async let a = upload()
            async let b = upload()
            let (first, second) = try await (a, b)
            #expect(first.accepted + second.accepted == 20_000)
            #expect(first.duplicates + second.duplicates == 20_000)
        }
        #expect(try await database.statusCounts()["queued"] == 20_000)
    }
}
