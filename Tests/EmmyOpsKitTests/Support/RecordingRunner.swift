@testable import EmmyOpsKit
import Foundation

/// A CommandRunner for hosts that cannot exist here (a Docker engine): records every argv and
/// keeps the same contract as a host for what plans read back — files written through
/// `cat >` can be `cat`ed, `sha256sum` reports the SHA-256 of what was uploaded, `mkdir` of an
/// existing directory fails. Everything else succeeds.
final class RecordingRunner: CommandRunner, @unchecked Sendable {
    let target: String
    private let lock = NSLock()
    private var files: [String: Data] = [:]
    private var directories: Set<String> = []
    private(set) var commands: [[String]] = []

    init(target: String) { self.target = target }

    func run(_ argv: [String], stdinFile: String?, timeout: TimeInterval) throws -> CommandResult {
        lock.withLock {
            commands.append(argv)
            switch argv.first {
            case "sh" where argv.count >= 5 && argv[3] == "emmyops-upload":
                files[argv[4]] = stdinFile.flatMap { FileManager.default.contents(atPath: $0) } ?? Data()
            case "cat":
                guard let data = files[argv[argv.count - 1]] else { return CommandResult(status: 1, stderr: "No such file") }
                return CommandResult(status: 0, stdout: String(decoding: data, as: UTF8.self))
            case "mkdir" where argv.count == 3:
                if directories.contains(argv[2]) { return CommandResult(status: 1, stderr: "File exists") }
                directories.insert(argv[2])
            case "rm":
                directories.remove(argv[argv.count - 1])
                files = files.filter { !$0.key.hasPrefix(argv[argv.count - 1] + "/") }
            case "sha256sum":
                let lines = argv.dropFirst(2).map { path in
                    (files[path].map { ProcessRunnerSHA.hex($0) } ?? String(repeating: "0", count: 64)) + "  " + path
                }
                return CommandResult(status: 0, stdout: lines.joined(separator: "\n") + "\n")
            default: break
            }
            return CommandResult(status: 0)
        }
    }
}

/// SHA-256 through the system tool, so the recorder needs no crypto of its own.
enum ProcessRunnerSHA {
    static func hex(_ data: Data) -> String {
        let out = try? ProcessRunner().run("/usr/bin/sha256sum", [], input: data)
        return String(out?.stdout.prefix(64) ?? "")
    }
}
