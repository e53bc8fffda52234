import Foundation

/// A small HCL writer that emits text the way `terraform fmt` would: two-space indents, `=`
/// aligned across each run of consecutive one-line attributes, and a run broken by a comment,
/// a nested block or a multi-line value (exactly where terraform fmt breaks it).
struct HCLBlock {
    var header: String
    var body: [HCLItem]

    /// `resource "aws_vpc" "main" { … }`: a keyword and its quoted labels.
    init(_ keyword: String, _ labels: String..., @HCLBodyBuilder body: () -> [HCLItem]) {
        self.header = ([keyword] + labels.map(HCL.quote)).joined(separator: " ")
        self.body = body()
    }

    func lines(indent: Int = 0) -> [String] {
        let pad = String(repeating: " ", count: indent)
        if body.isEmpty { return ["\(pad)\(header) {}"] }
        return ["\(pad)\(header) {"] + HCL.bodyLines(body, indent: indent + 2) + ["\(pad)}"]
    }
}

/// One line (or group of lines) inside a block body.
enum HCLItem {
    /// `name = expression` on one line.
    case attribute(String, String)
    /// `name = {` … `}` and the like: a value spanning several lines.
    case value(String, HCLValue)
    case block(HCLBlock)
    case comment(String)
    /// `#checkov:skip=ID:reason`, inside the resource it excuses.
    case checkovSkip(String, String)
    case blank

    /// `name = {` … `}`: a map of one-line entries.
    static func map(_ name: String, _ entries: [(String, String)]) -> HCLItem {
        .value(name, .object(entries.map { ($0.0, .raw($0.1)) }))
    }
}

/// An expression written over several lines: objects, tuples and function calls around them.
indirect enum HCLValue {
    case raw(String)
    case object([(String, HCLValue)])
    case array([HCLValue])
    /// `name(value)`, such as `jsonencode({ … })`.
    case call(String, HCLValue)

    /// The value's lines; the first continues the line that names it.
    func lines(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .raw(let text): return [text]
        case .object(let entries):
            return ["{"] + HCL.bodyLines(entries.map { .value($0.0, $0.1) }, indent: indent + 2) + ["\(pad)}"]
        case .array(let elements):
            var lines = ["["]
            for element in elements {
                var inner = element.lines(indent: indent + 2)
                inner[0] = "\(pad)  \(inner[0])"
                inner[inner.count - 1] += ","
                lines += inner
            }
            return lines + ["\(pad)]"]
        case .call(let function, let argument):
            var inner = argument.lines(indent: indent)
            inner[0] = "\(function)(\(inner[0])"
            inner[inner.count - 1] += ")"
            return inner
        }
    }
}

@resultBuilder
enum HCLBodyBuilder {
    static func buildExpression(_ item: HCLItem) -> [HCLItem] { [item] }
    static func buildExpression(_ block: HCLBlock) -> [HCLItem] { [.block(block)] }
    static func buildExpression(_ items: [HCLItem]) -> [HCLItem] { items }
    static func buildBlock(_ parts: [HCLItem]...) -> [HCLItem] { parts.flatMap { $0 } }
    static func buildOptional(_ part: [HCLItem]?) -> [HCLItem] { part ?? [] }
    static func buildEither(first part: [HCLItem]) -> [HCLItem] { part }
    static func buildEither(second part: [HCLItem]) -> [HCLItem] { part }
    static func buildArray(_ parts: [[HCLItem]]) -> [HCLItem] { parts.flatMap { $0 } }
}

/// Expression helpers and the file assembler.
enum HCL {
    /// A quoted HCL string; `${` and `%{` are escaped so spec text is never interpolated.
    static func quote(_ text: String) -> String { "\"\(escape(text))\"" }

    /// The inside of a quoted HCL string, for spec text spliced into a `template`.
    static func escape(_ text: String) -> String {
        text.replacingExactly("\\", with: "\\\\").replacingExactly("\"", with: "\\\"")
            .replacingExactly("\n", with: "\\n").replacingExactly("${", with: "$${").replacingExactly("%{", with: "%%{")
    }

    /// A string template whose `${…}` interpolations are meant (written by the renderer, not the spec).
    static func template(_ text: String) -> String { "\"\(text)\"" }

    /// `["a", "b"]` on one line.
    static func list(_ values: [String]) -> String { "[" + values.joined(separator: ", ") + "]" }

    static func strings(_ values: [String]) -> String { list(values.map(quote)) }

    /// A `tags = { Name = "…" }` map naming a resource after the project.
    static func nameTag(_ suffix: String) -> HCLItem { .map("tags", [("Name", "\"${var.project}-\(suffix)\"")]) }

    static func bodyLines(_ items: [HCLItem], indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var run: [(String, String)] = []
        func flush() {
            let width = run.map(\.0.count).max() ?? 0
            // Padded in Swift: Foundation's padding(toLength:) goes through NSString.
            for (name, value) in run { lines.append(pad + name + String(repeating: " ", count: width - name.count) + " = " + value) }
            run = []
        }
        for item in items {
            switch item {
            case .attribute(let name, let value), .value(let name, .raw(let value)):
                run.append((name, value))
                continue
            default: flush()
            }
            switch item {
            case .attribute: break
            case .value(let name, let value):
                let valueLines = value.lines(indent: indent)
                lines.append("\(pad)\(name) = \(valueLines[0])")
                lines += valueLines.dropFirst()
            case .block(let block): lines += block.lines(indent: indent)
            case .comment(let text): lines.append("\(pad)# \(text)")
            case .checkovSkip(let id, let reason): lines.append("\(pad)#checkov:skip=\(id):\(reason)")
            case .blank: lines.append("")
            }
        }
        flush()
        return lines
    }

    /// A whole `.tf` file: the generated header, then the blocks separated by blank lines.
    static func file(_ path: String, comments: [String] = [], _ blocks: [HCLBlock]) -> RenderedFile {
        var lines = GeneratedHeader.lines.map { "# \($0)" } + comments.map { $0.isEmpty ? "#" : "# \($0)" }
        for block in blocks { lines += [""] + block.lines() }
        return RenderedFile(path: OutputPath.terraform(path), contents: lines.joined(separator: "\n") + "\n")
    }
}
