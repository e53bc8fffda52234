import ArgumentParser
import EmmyOpsKit

/// What `main` settles before ArgumentParser sees the arguments: the global `--no-color`, the
/// root's `--version`, the plain arguments of the render commands (`DirectDispatch`), and a
/// first word that names no command (ArgumentParser would print the top-level help for
/// `emmyops nosuch --help` and exit 0, and offers no suggestion).
enum CommandLineFront {
    enum Outcome: Equatable {
        case parse([String])
        case render(RenderRequest)
        case version
        case unknownCommand(String)
    }

    static func settle(_ arguments: [String]) -> Outcome {
        var arguments = arguments
        if arguments.contains("--no-color") {
            Output.colourOff = true
            arguments.removeAll { $0 == "--no-color" }
        }
        if arguments == ["--version"] { return .version }
        if let request = DirectDispatch.renderRequest(arguments) { return .render(request) }
        guard let first = arguments.first, !first.hasPrefix("-") else { return .parse(arguments) }
        let names = EmmyOps.configuration.subcommands.map { $0._commandName } + ["help"]
        guard names.contains(first) else {
            let hint = Suggest.closest(to: first, in: names).map { "; did you mean `\($0)`?" } ?? ""
            return .unknownCommand("unknown command `\(first)`\(hint) (`emmyops --help` lists them)")
        }
        return .parse(arguments)
    }
}
