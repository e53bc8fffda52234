@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18's suspicion, confirmed: a run-state file outlives its process, and stopping "every
/// release with a state file" used to signal whatever process had since taken the pid.
@Suite struct ReleaseStopTests {
    @Test func aStateFileNamingAnotherProcessStopsNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let layout = ReleaseLayout(root: dir.path)
        try FileManager.default.createDirectory(atPath: layout.run, withIntermediateDirectories: true)
        // The stranger: a process that is not the release, as after a reboot or pid reuse.
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
        stranger.arguments = ["60"]
        try stranger.run()
        // SIGKILL: a child started from a test thread inherits its blocked SIGTERM.
        defer { kill(stranger.processIdentifier, SIGKILL); stranger.waitUntilExit() }
        try ReleaseState(pid: stranger.processIdentifier, port: 5001).write(to: layout.state("v1"))

        HostActivation(layout: layout, hostName: "web-1", version: "v2", who: "test", action: "deploy").stopAll(except: nil, grace: 1)

        #expect(stranger.isRunning, "a process that is not the release was signalled")
        #expect(!FileManager.default.fileExists(atPath: layout.state("v1")), "the stale state file should be cleared")
    }

    @Test func theReleaseItselfIsStillStopped() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let layout = ReleaseLayout(root: dir.path)
        try FileManager.default.createDirectory(atPath: layout.release("v1"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: layout.binary("v1"), withDestinationPath: CLI.binary)
        try "version: 1\n".write(toFile: layout.spec("v1"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: layout.logs, withIntermediateDirectories: true)
        let port = try LoopbackPorts.pick(1)[0]
        let pid = try ReleaseProcess.start(layout: layout, version: "v1", port: port,
                                           environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        defer { kill(pid, SIGKILL); waitpid(pid, nil, 0) }
        try await poll("the release on port \(port)", timeout: .seconds(30)) { () -> Bool? in
            guard ReleaseProcess.isAlive(pid) else { throw CocoaError(.executableLoad) }
            if case .success(200) = HTTPProbe.request("http://127.0.0.1:\(port)/ready").map(\.status) { return true }
            return nil
        }
        #expect(ReleaseProcess.isRelease(pid, layout: layout, version: "v1", port: port))
        #expect(ReleaseProcess.isRelease(pid, layout: layout, version: "v1", port: nil), "a state file without a port still matches")
        #expect(!ReleaseProcess.isRelease(pid, layout: layout, version: "v2", port: port))

        HostActivation(layout: layout, hostName: "web-1", version: "v2", who: "test", action: "deploy").stopAll(except: nil, grace: 10)

        #expect(!ReleaseProcess.isAlive(pid), "the release should be stopped")
        #expect(!FileManager.default.fileExists(atPath: layout.state("v1")))
    }
}
