import EmmyApp
import Foundation
import Yams

/// Reads emmy.yaml: YAML → one walk checking it against `SpecSchema` → model built from the
/// accepted values → semantic checks.
///
/// Every problem is collected with its `file:line:col` before anything fails, and no input
/// (binary junk, huge files, deep nesting, alias bombs) can crash or hang it.
public enum SpecLoader {
    /// Larger files are refused before parsing; a real spec is a few kilobytes.
    public static let maxBytes = 1 << 20
    /// Nesting deeper than this is refused before parsing (the spec needs about six levels).
    public static let maxDepth = 64
    /// Nodes visited while checking; stops alias expansion ("billion laughs") early.
    public static let maxNodes = 100_000

    /// The result of loading: a spec when there were no errors, and every diagnostic.
    public struct Result: Sendable {
        public var spec: Spec?
        public var diagnostics: [Diagnostic]
    }

    /// Loads and validates the spec at `path`; throws `SpecError.invalid` when it has errors.
    public static func load(path: String) throws -> (Spec, [Diagnostic]) {
        let result = try loadResult(path: path)
        guard let spec = result.spec else { throw SpecError.invalid(result.diagnostics) }
        return (spec, result.diagnostics)
    }

    /// Loads the spec at `path`, returning diagnostics rather than throwing them.
    public static func loadResult(path: String) throws -> Result {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SpecError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw SpecError.unreadable(path: path, reason: "\(error)")
        }
        return load(data: data, file: path)
    }

    /// Loads a spec from bytes; `file` names it in diagnostics.
    public static func load(data: Data, file: String) -> Result {
        func fail(_ line: Int, _ column: Int, _ message: String, hint: String? = nil) -> Result {
            Result(spec: nil, diagnostics: [Diagnostic(.error, at: SourceLocation(file: file, line: line, column: column), path: "", message, hint: hint)])
        }
        if data.count > maxBytes {
            return fail(1, 1, "the spec is larger than \(maxBytes / 1024) KiB", hint: "emmy.yaml describes one service; a real one is a few kilobytes")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            let (line, column) = firstInvalidUTF8(data)
            return fail(line, column, "the spec is not valid UTF-8", hint: "save the file as UTF-8")
        }
        return load(text: text, file: file)
    }

    /// Loads a spec from text; `file` names it in diagnostics.
    public static func load(text: String, file: String) -> Result {
        let at = { (line: Int, column: Int) in SourceLocation(file: file, line: line, column: column) }
        if let (line, column) = InputGuard.firstTooDeep(text, limit: maxDepth) {
            return Result(spec: nil, diagnostics: [Diagnostic(.error, at: at(line, column), path: "",
                "nesting is deeper than \(maxDepth) levels", hint: "emmy.yaml needs about six levels")])
        }
        if let (line, column) = InputGuard.firstComplexKey(text) {
            return Result(spec: nil, diagnostics: [Diagnostic(.error, at: at(line, column), path: "",
                "an alias or `?` cannot be used as a mapping key", hint: "write the key as plain text")])
        }
        let root: Node?
        do {
            switch try InputGuard.composeScreeningAliasKeys(text) {
            case .aliasInKey(let line, let column):
                return Result(spec: nil, diagnostics: [Diagnostic(.error, at: at(line, column), path: "",
                    "an alias cannot be used as a mapping key or inside one", hint: "write the key as plain text")])
            case .composed(let composed):
                root = composed
            }
        } catch let error as YamlError {
            return Result(spec: nil, diagnostics: [yamlDiagnostic(error, text: text, file: file)])
        } catch {
            return Result(spec: nil, diagnostics: [Diagnostic(.error, at: at(1, 1), path: "", "cannot parse YAML: \(error)")])
        }
        guard let root, !NodeReader.isNull(root) else {
            return Result(spec: nil, diagnostics: [Diagnostic(.error, at: at(1, 1), path: "", "the spec is empty",
                hint: "start with `version: 1`, or run `emmyops init`")])
        }
        var checker = SchemaChecker(file: file, maxNodes: maxNodes)
        let checked = checker.check(root, against: SpecSchema.root, path: "")
        var diagnostics = checker.diagnostics
        if checker.exhausted {
            return Result(spec: nil, diagnostics: diagnostics)
        }
        var spec = SpecBuilder(file: file).build(checked)
        spec.sourceMap = checker.sourceMap
        diagnostics += SpecValidation.validate(spec)
        diagnostics.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        return Result(spec: diagnostics.hasErrors ? nil : spec, diagnostics: diagnostics)
    }

    static func yamlDiagnostic(_ error: YamlError, text: String, file: String) -> Diagnostic {
        func diag(_ mark: Mark?, _ message: String) -> Diagnostic {
            diagAt(mark?.line ?? 1, mark?.column ?? 1, message)
        }
        func diagAt(_ line: Int, _ column: Int, _ message: String) -> Diagnostic {
            Diagnostic(.error, at: SourceLocation(file: file, line: max(1, line), column: max(1, column)), path: "", message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) (started at \($0.mark.line):\($0.mark.column)): " } ?? ""
            return diag(mark, "invalid YAML: \(prefix)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return diag(context.mark, "duplicate key \(duplicates.map { "`\($0)`" }.joined(separator: ", ")) in one mapping")
        case .reader(let problem, let offset, _, _):
            let prefix = offset.map { String(text.utf8.prefix($0)) ?? "" } ?? ""
            let line = prefix.split(separator: "\n", omittingEmptySubsequences: false).count
            return diagAt(line, 1, "cannot read YAML: \(problem)")
        default:
            return diag(nil, "invalid YAML: \(error)")
        }
    }

    static func firstInvalidUTF8(_ data: Data) -> (Int, Int) {
        var line = 1, column = 1
        var index = data.startIndex
        while index < data.endIndex {
            let end = min(index + 4, data.endIndex)
            var valid = false
            for length in 1...4 where index + length <= end {
                if String(validating: data[index..<(index + length)], as: UTF8.self) != nil {
                    if data[index] == UInt8(ascii: "\n") { line += 1; column = 0 }
                    index += length
                    column += 1
                    valid = true
                    break
                }
            }
            if !valid { return (line, column) }
        }
        return (line, column)
    }
}
