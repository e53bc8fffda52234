import EmmyApp
import Foundation
import Yams

/// Walks a YAML tree against `SpecSchema`, once: collects unknown keys, missing keys and wrong
/// types with their locations, records where every key path was written, and returns the
/// values it accepted as a `CheckedNode` tree for `SpecBuilder`.
struct SchemaChecker {
    let file: String
    let maxNodes: Int
    private(set) var diagnostics: [Diagnostic] = []
    private(set) var sourceMap: SourceMap
    private(set) var exhausted = false
    private var visited = 0

    init(file: String, maxNodes: Int) {
        self.file = file
        self.maxNodes = maxNodes
        self.sourceMap = SourceMap(file: file)
    }

    private func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    private mutating func error(_ node: Node, _ path: String, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, at: location(node), path: path, message, hint: hint))
    }

    /// Checks `node` against `type` and returns what was accepted, nil when nothing was.
    mutating func check(_ node: Node, against type: SchemaType, path: String) -> CheckedNode? {
        guard !exhausted else { return nil }
        visited += 1
        if visited > maxNodes {
            exhausted = true
            error(node, path, "the spec expands to more than \(maxNodes) nodes", hint: "check for aliases that refer to each other")
            return nil
        }
        sourceMap.record(path, location(node))
        if case .alias = node { return nil }
        switch type {
        case .object(let fields):
            return checkObject(node, fields: fields, path: path)
        case .map(let valueType):
            guard expect(node, isMapping: true, path: path) else { return nil }
            var seen: Set<String> = []
            var entries: [CheckedNode.Entry] = []
            for (key, keyNode, value) in NodeReader.pairs(node) {
                let childPath = join(path, key)
                if !seen.insert(key).inserted { error(keyNode, childPath, "`\(key)` is defined twice") }
                sourceMap.record(childPath, location(keyNode))
                if let checked = check(value, against: valueType, path: childPath) {
                    entries.append(.init(key: key, value: checked))
                }
            }
            return .mapping(entries)
        case .list(let itemType):
            if NodeReader.isNull(node) { return nil }
            guard case .sequence = node else {
                error(node, path, "expected a list, got \(NodeReader.typeName(node))", hint: "write `[a, b]` or one `- item` per line")
                return nil
            }
            var items: [CheckedNode] = []
            for (index, item) in NodeReader.items(node).enumerated() {
                if let checked = check(item, against: itemType, path: "\(path)[\(index)]") { items.append(checked) }
            }
            return .sequence(items)
        default:
            let errorsBefore = diagnostics.count
            checkScalar(node, type, path: path)
            guard diagnostics.count == errorsBefore, let text = NodeReader.string(node) else { return nil }
            return .scalar(text)
        }
    }

    private mutating func expect(_ node: Node, isMapping: Bool, path: String) -> Bool {
        if NodeReader.isNull(node) { return false }
        guard case .mapping = node else {
            error(node, path, "expected a mapping of keys, got \(NodeReader.typeName(node))")
            return false
        }
        return true
    }

    private mutating func checkObject(_ node: Node, fields: [SchemaField], path: String) -> CheckedNode? {
        guard expect(node, isMapping: true, path: path) else {
            if NodeReader.isNull(node), let required = fields.first(where: \.required), path.isEmpty {
                error(node, path, "missing required key `\(required.name)`")
            }
            return nil
        }
        let names = fields.map(\.name)
        var present: Set<String> = []
        var entries: [CheckedNode.Entry] = []
        for (key, keyNode, value) in NodeReader.pairs(node) {
            let childPath = join(path, key)
            guard let field = fields.first(where: { $0.name == key }) else {
                let hint = Suggest.closest(to: key, in: names).map { "did you mean `\($0)`?" }
                    ?? "expected one of: \(names.joined(separator: ", "))"
                error(keyNode, childPath, "unknown key `\(key)`", hint: hint)
                continue
            }
            present.insert(key)
            if let checked = check(value, against: field.type, path: childPath) {
                entries.append(.init(key: key, value: checked))
            }
        }
        if case .mapping(let mapping) = node {
            for case let (keyNode, _) in mapping where NodeReader.string(keyNode) == nil {
                error(keyNode, path, "keys must be strings, got \(NodeReader.typeName(keyNode))")
            }
        }
        for field in fields where field.required && !present.contains(field.name) {
            error(node, path, "missing required key `\(field.name)`")
        }
        return .mapping(entries)
    }

    private mutating func checkScalar(_ node: Node, _ type: SchemaType, path: String) {
        guard case .scalar(let scalar) = node else {
            return error(node, path, "expected \(describe(type)), got \(NodeReader.typeName(node))")
        }
        let text = scalar.string
        if NodeReader.isNull(node) {
            return error(node, path, "expected \(describe(type)), got nothing", hint: "remove the key to use the default")
        }
        switch type {
        case .string:
            break
        case .secretOrString:
            if text.hasPrefix("${"), ConfigValue.secretName(in: text) == nil {
                error(node, path, "`\(text)` is not a valid secret reference", hint: "write `${NAME}` with letters, digits and underscores")
            }
        case .secret:
            if ConfigValue.secretName(in: text) == nil {
                error(node, path, "must be a secret reference such as `${GRAFANA_ADMIN_PASSWORD}`",
                      hint: "secrets are read from the environment or a file at run time and never written into the spec or a rendering")
            }
        case .integer(let min, let max):
            guard let value = NodeReader.int(node) else {
                return error(node, path, "expected an integer, got \(NodeReader.typeName(node))")
            }
            if value < min || value > max {
                error(node, path, min == max ? "must be \(min), got \(value)" : "\(value) is out of range \(min)–\(max)")
            }
        case .boolean:
            if NodeReader.bool(node) == nil {
                error(node, path, "expected true or false, got \(NodeReader.typeName(node))")
            }
        case .port:
            guard let value = NodeReader.int(node) else {
                let hint = scalar.style != .plain && Int(text) != nil ? "remove the quotes" : nil
                return error(node, path, "expected a port number, got \(NodeReader.typeName(node))", hint: hint)
            }
            if !(1...65535).contains(value) { error(node, path, "port \(value) is out of range 1–65535") }
        case .duration:
            if PromDuration(parsing: text) == nil {
                let hint = NodeReader.int(node) != nil ? "add a unit: `\(text)s`" : "write a duration such as `30s`, `5m`, `1h30m` or `3d`"
                error(node, path, "`\(text)` is not a duration", hint: hint)
            }
        case .percent:
            if Ratio(percent: text) == nil {
                let hint = Double(text).map { value in
                    value <= 1 ? "write a percentage such as `\(percentHint(value))%`" : "write a percentage such as `\(text)%`"
                } ?? "write a percentage such as `5%` or `99.9%`"
                error(node, path, "`\(text)` is not a percentage", hint: hint)
            }
        case .rate:
            if ServerConfig.Rate(parsing: text) == nil {
                error(node, path, "`\(text)` is not a rate", hint: "write requests per period, e.g. `5/minute`, `1/second`, `100/hour`")
            }
        case .enumeration(let values):
            if !values.contains(text) {
                let hint = Suggest.closest(to: text, in: values).map { "did you mean `\($0)`?" }
                    ?? "expected one of: \(values.joined(separator: ", "))"
                error(node, path, "`\(text)` is not one of \(values.joined(separator: ", "))", hint: hint)
            }
        case .object, .map, .list:
            break
        }
    }

    private func describe(_ type: SchemaType) -> String {
        switch type {
        case .string, .secretOrString: "a string"
        case .secret: "a secret reference"
        case .integer: "an integer"
        case .boolean: "true or false"
        case .port: "a port number"
        case .duration: "a duration"
        case .percent: "a percentage"
        case .rate: "a rate such as 5/minute"
        case .enumeration(let values): "one of \(values.joined(separator: ", "))"
        case .list: "a list"
        case .object, .map: "a mapping"
        }
    }

    private func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// `value` (a ratio the user wrote without `%`) as a percentage, for the hint. Only a
    /// rejected percentage gets here, so Foundation's `Decimal` stays: it reads any `Double`
    /// (`1e-3`, `0x1p-4`) and prints the digits the hint has always shown.
    private func percentHint(_ value: Double) -> String {
        var percent = Decimal(value) * 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &percent, 12, .plain)
        return NSDecimalNumber(decimal: rounded).stringValue
    }
}
