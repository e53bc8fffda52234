import ArgumentParser
import EmmyOpsKit

/// The one place an error becomes an exit code (README: 0 ok; 1 a problem with the spec, a
/// rendering or an operation; 2 the environment is unusable; 64 bad command-line usage).
/// Commands throw `CommandFailure` or a library's typed error and never pick a number.
enum ExitCodeMap {
    /// Problem: the spec, a rendering or an operation found something wrong.
    static let problem: Int32 = 1
    /// Environment: a missing tool, an unreadable file, a host that cannot be reached.
    static let environment: Int32 = 2
    /// Usage: a flag or name on the command line is wrong (ArgumentParser's own code).
    static let usage: Int32 = 64

    /// What to exit with for `error`, after writing its message to stderr. ArgumentParser's own
    /// outcomes pass through for it to print: a group's help, `help`, `--help` (thrown from
    /// `run()` as its internal `CommandError`, hence the module check) and validation errors.
    static func exit(for error: Error) -> Error {
        if error is CleanExit || error is ValidationError || error is ExitCode
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            return error
        }
        let (code, message) = classify(error)
        if let message { Output.error(message) }
        return ExitCode(code)
    }

    /// The code and the message to print (nil when it was printed already).
    static func classify(_ error: Error) -> (Int32, String?) {
        switch error {
        case let failure as CommandFailure:
            switch failure {
            case .problem(let message): return (problem, message)
            case .environment(let message): return (environment, message)
            case .usage(let message): return (usage, message)
            case .childStatus(let status): return (status, nil)
            }
        case SpecError.unreadable:
            return (environment, "\(error)")
        case SpecError.invalid:
            return (problem, "\(error)")
        case DeployError.unreadable:
            return (environment, "\(error)")
        default:
            // ssh could not connect, log in or trust the host key: the environment, not the release.
            return (error.isUnreachable ? environment : problem, "\(error)")
        }
    }
}
