import Foundation

/// What a command printed and how it ended.
public struct CommandResult: Sendable, Hashable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs an argv on some machine: locally, over SSH, or into a recorder in tests.
public protocol CommandRunner: Sendable {
    /// Where commands run, for messages.
    var target: String { get }
    /// Runs `argv` (never a shell string); `stdinFile` streams a local file to its input.
    func run(_ argv: [String], stdinFile: String?, timeout: TimeInterval) throws -> CommandResult
}

extension CommandRunner {
    public func run(_ argv: [String], timeout: TimeInterval = 120) throws -> CommandResult {
        try run(argv, stdinFile: nil, timeout: timeout)
    }
}

/// Runs commands on this machine.
public struct LocalRunner: CommandRunner {
    public var target: String { "localhost" }
    public init() {}

    public func run(_ argv: [String], stdinFile: String?, timeout: TimeInterval) throws -> CommandResult {
        guard let name = argv.first else { return CommandResult(status: 127, stderr: "empty command") }
        guard let executable = name.hasPrefix("/") ? name : ProcessRunner.which(name) else {
            return CommandResult(status: 127, stderr: "\(name): not found")
        }
        let out = try ProcessRunner().run(executable, Array(argv.dropFirst()), inputFile: stdinFile, timeout: timeout)
        return CommandResult(status: out.timedOut ? 124 : out.status, stdout: out.stdout, stderr: out.stderr)
    }
}
