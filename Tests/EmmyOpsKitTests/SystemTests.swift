import EmmyApp
@testable import EmmyOpsKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The System room: the one posix_spawn wrapper, the process table, tool locations and dates.
@Suite struct SystemTests {
    /// Waits for `pid` and returns its wait status.
    private func reap(_ pid: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status
    }

    @Test func detachedSpawnLogsBothStreamsInItsOwnSession() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("child.log").path
        let pid = try ProcessSpawn.spawn(["/bin/sh", "-c", "echo out; echo err >&2; echo \"x=$X\"; exec sleep 600"],
                                         .detached(logFile: log, environment: ["X": "1", "PATH": "/usr/bin:/bin"]))
        var reaped = false
        defer { if !reaped { kill(pid, SIGKILL); _ = reap(pid) } }
        // Polled on this thread: the cooperative pool may be busy with other suites' processes.
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("x=1"), Date() < deadline {
            usleep(20_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        #expect(text == "out\nerr\nx=1\n", "stdout and stderr both go to the log; the environment is the one given")
        #expect(getsid(pid) == pid, "a new session leads itself")
        #expect(ProcessTable.isAlive(pid))
        #expect(ReleaseProcess.isAlive(pid), "one rule for both names")
        kill(pid, SIGTERM)
        let status = reap(pid)
        reaped = true
        #expect(status & 0x7f == SIGTERM, "SIGTERM at its default action ends the child")
        #expect(!ProcessTable.isAlive(pid))
    }

    /// A signal this process ignores is back at its default in the child (the supervisor's
    /// threads handle signals; its child must still obey them).
    @Test func childSpawnResetsIgnoredSignals() throws {
        let previous = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previous) }
        let pid = try ProcessSpawn.spawn(["/bin/sleep", "600"])
        kill(pid, SIGUSR2)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(30)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                status = reap(pid)
                break
            }
            usleep(20_000)
        }
        #expect(status & 0x7f == SIGUSR2, "the child died of the signal its parent ignores")
    }

    @Test func spawnFailureSaysWhy() {
        #expect(throws: ProcessSpawn.Failure.self) { try ProcessSpawn.spawn(["/nonexistent/emmyops"]) }
    }

    @Test func toolLocationsComeFromTheEnvironment() throws {
        #expect(ToolLocations(environment: [:]) == ToolLocations(hcl2Python: "emmy-hcl2-python", pluginMirror: "/opt/tf-plugins"))
        let moved = ToolLocations(environment: ["EMMY_HCL2_PYTHON": "/srv/venv/bin/python", "EMMY_TF_PLUGIN_MIRROR": "/srv/mirror"])
        #expect(moved.hcl2Python == "/srv/venv/bin/python" && moved.pluginMirror == "/srv/mirror")
        #expect(ToolLocations(environment: ["EMMY_HCL2_PYTHON": ""]).hcl2Python == "emmy-hcl2-python", "empty means unset")

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let environment = TerraformTooling.environment(scratch: dir, pluginMirror: dir.path)
        let config = try String(contentsOfFile: try #require(environment["TF_CLI_CONFIG_FILE"]), encoding: .utf8)
        #expect(config.contains("path = \"\(dir.path)\""))
        #expect(TerraformTooling.environment(scratch: dir, pluginMirror: "/nonexistent")["TF_CLI_CONFIG_FILE"] == nil)
    }

    @Test func datesAreWrittenOneWay() {
        let date = Date(timeIntervalSince1970: 1_795_417_200) // 2026-11-23T07:00:00Z
        #expect(DateText.iso8601(date) == "2026-11-23T07:00:00Z")
        #expect(DateText.readable(date) == "2026-11-23 07:00:00 UTC")
        #expect(DateText.compact(date) == "20261123-070000")
        #expect(ReleaseLayout.defaultVersion(at: date) == "20261123-070000")
        #expect(DateText.httpDate("Mon, 23 Nov 2026 07:00:00 GMT") == date)
        #expect(DateText.httpDate("soon") == nil)
    }

    /// Each alert kind's threshold unit is declared once, by its default; the catalogue builds
    /// every enabled kind from it.
    @Test func thresholdUnitsFollowTheDefaults() {
        #expect(AlertKind.allCases.filter { $0.thresholdKind == .ratio } == [.highErrorRate, .highCPU, .highMemory, .lowDisk, .highFailureRate])
        #expect(AlertKind.slowProcessing.thresholdKind == .duration && AlertKind.rateLimitExceeded.thresholdKind == .count)
        #expect(AlertKind.appDown.thresholdKind == .none && AlertKind.databaseDown.thresholdKind == .none)
        let names = Set(AlertCatalogue(spec: Spec()).alerts.map(\.name))
        #expect(names.isSuperset(of: ["EmmyAppDown", "EmmyDatabaseDown", "EmmyHighErrorRate", "EmmyHighMessageFailureRate",
                                      "EmmySlowBatchProcessing", "EmmyRateLimitExceeded", "EmmyHostHighCPU", "EmmyHostHighMemory",
                                      "EmmyHostLowDisk"]))
    }
}
