import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18 suspicion, confirmed: with `synchronous = NORMAL` no commit was fsynced before
/// EmmyApp answered 202, so a power cut could lose a batch the client had been told was
/// queued. Watched from outside with strace: the write-ahead log must be synced before the
/// answer (a one-row batch never reaches a checkpoint, which would sync it anyway).
@Suite(.serialized) struct DurabilityTests {
    static var strace: String? { ProcessRunner.which("strace") }

    @Test(.enabled(if: strace != nil || CLI.toolsRequired, "strace is not on PATH"))
    func anAnsweredBatchIsSyncedToDiskBeforeThe202() async throws {
        let strace = try #require(Self.strace, "EMMY_REQUIRE_TOOLS=1 but strace is not on PATH")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try LoopbackPorts.pick(1)[0]
        let trace = dir.appendingPathComponent("fsync.trace")
        let server = try ProcessHarness(name: "serve", executable: strace, arguments: [
            "-f", "--seccomp-bpf", "-y", "-e", "trace=fsync,fdatasync", "-o", trace.path,
            CLI.binary, "serve", "--port", "\(port)", "--data-dir", dir.appendingPathComponent("data").path,
        ], logDirectory: dir)
        defer {
            // End the traced server first; strace then exits on its own. (SIGTERM to strace
            // only detaches it, leaving the server running.)
            let children = (try? String(contentsOfFile: "/proc/\(server.pid)/task/\(server.pid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
            server.stop()
        }
        try await poll("EmmyApp /ready", timeout: .seconds(30)) { () -> Bool? in
            try server.checkAlive()
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
            return nil
        }
        func walSyncs() -> Int {
            let text = (try? String(contentsOf: trace, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("sync(") && $0.contains("emmy.sqlite-wal>") }.count
        }
        let before = walSyncs()
        let answer = HTTPProbe.request("http://127.0.0.1:\(port)/messages", method: "POST",
                                       body: #"{"contacts": [{"phone": "+254712345678", "name": "Amina"}], "message": "Hi {name}"}"#, timeout: 30)
        guard case .success(let response) = answer else { Issue.record("POST /messages failed: \(answer)"); return }
        #expect(response.status == 202)
        // strace writes each line when the call returns, before the server could answer; the
        // poll only covers strace's own buffering.
        let synced = try? await poll("an fsync of the WAL", timeout: .seconds(5)) { walSyncs() > before ? true : nil }
        #expect(synced == true, "the batch's commit was not synced before its 202 (WAL syncs: \(walSyncs()), before: \(before))")
    }
}
