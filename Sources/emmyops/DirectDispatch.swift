import EmmyOpsKit

/// `render` and `render-monitoring` with plain arguments, read without ArgumentParser.
///
/// Parsing with ArgumentParser builds the whole command tree, reflects every property wrapper
/// of the command (Mirror and dynamic casts: the first time a type meets a protocol, the Swift
/// runtime scans the static binary's 12,000 conformance records) and first tries two parses
/// for `--generate-completion-script`: a quarter of the 17 ms `render all` took, for a command
/// CI, editors' save hooks and scripts run again and again. Even making the command's value
/// (its property wrappers) costs such scans, so this reads straight into a `RenderRequest`.
///
/// It reads the usual spellings only and leaves everything else to ArgumentParser, which
/// answers it as before: help and completion requests, `--`, unknown, repeated or misspelt
/// options, a missing value or one that starts with `-`, an unknown target. What it accepts,
/// ArgumentParser parses to the same request (DirectDispatchTests compares the two).
enum DirectDispatch {
    /// The request `arguments` (without the program name) make, when they are plain: a command
    /// name, then an optional target (`render` only), `--spec`, `--out` and `--format` each at
    /// most once with a value (`--out d` or `--out=d`), and `--check`, in any order.
    static func renderRequest(_ arguments: [String]) -> RenderRequest? {
        guard let name = arguments.first else { return nil }
        let takesTarget: Bool
        switch name {
        case EmmyOps.Render.configuration.commandName: takesTarget = true
        case EmmyOps.RenderMonitoring.configuration.commandName: takesTarget = false
        default: return nil
        }
        var target: RenderTarget?, spec: String?, out: String?, format: FormatOption.Format?
        var check = false
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            if argument == "--check" {
                guard !check else { return nil }
                check = true
                continue
            }
            guard argument.hasPrefix("-") else {
                guard takesTarget, target == nil, let named = RenderTarget(rawValue: argument) else { return nil }
                target = named
                continue
            }
            // `--name value` or `--name=value`; the value neither empty nor option-like.
            let option: Substring, value: String
            if let equals = argument.firstIndex(of: "=") {
                option = argument[..<equals]
                value = String(argument[argument.index(after: equals)...])
            } else {
                guard let next = rest.popFirst() else { return nil }
                option = argument[...]
                value = next
            }
            guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
            switch option {
            case "--spec" where spec == nil: spec = value
            case "--out" where out == nil: out = value
            case "--format" where format == nil:
                guard let known = FormatOption.Format(rawValue: value) else { return nil }
                format = known
            default: return nil
            }
        }
        // A missing option takes the default its declaration names.
        return RenderRequest(target: takesTarget ? target ?? EmmyOps.Render.defaultTarget : .monitoring,
                             spec: spec ?? SpecOptions.defaultPath, out: out ?? RenderOptions.defaultOut,
                             check: check, format: format ?? FormatOption.defaultFormat)
    }
}
