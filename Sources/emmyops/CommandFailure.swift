/// Why a command stops without success, when the cause is the command's own finding rather than
/// a library's typed error. `ExitCodeMap` turns it (and the libraries' errors) into an exit code.
enum CommandFailure: Error {
    /// The spec, a rendering or an operation has a problem (exit 1).
    case problem(String?)
    /// The environment is unusable: a missing tool, an unreadable file, an unreachable host (exit 2).
    case environment(String?)
    /// The command line names something that does not exist (exit 64).
    case usage(String)
    /// The supervised child's own exit status, passed on.
    case childStatus(Int32)

    /// A problem whose diagnostics were already printed.
    static let silentProblem = CommandFailure.problem(nil)
}
