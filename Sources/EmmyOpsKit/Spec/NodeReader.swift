import Yams

/// Small, lenient accessors over Yams nodes shared by the checker and the builder.
enum NodeReader {
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The string of a scalar (any style), nil for collections and null.
    static func string(_ node: Node?) -> String? {
        guard let node, case .scalar(let scalar) = node, !isNull(node) else { return nil }
        return scalar.string
    }

    /// An integer written as a plain scalar.
    static func int(_ node: Node?) -> Int? {
        guard let node, case .scalar(let scalar) = node, scalar.style == .plain else { return nil }
        guard !scalar.string.isEmpty, scalar.string.count <= 18,
              scalar.string.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }) else { return nil }
        return Int(scalar.string)
    }

    static func bool(_ node: Node?) -> Bool? {
        guard let node, case .scalar(let scalar) = node, scalar.style == .plain else { return nil }
        switch scalar.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// Key/value pairs of a mapping with string keys, in the order written.
    static func pairs(_ node: Node?) -> [(key: String, keyNode: Node, value: Node)] {
        guard let node, case .mapping(let mapping) = node else { return [] }
        return mapping.compactMap { key, value in string(key).map { ($0, key, value) } }
    }

    static func value(_ node: Node?, _ key: String) -> Node? {
        pairs(node).first { $0.key == key }?.value
    }

    static func items(_ node: Node?) -> [Node] {
        guard let node, case .sequence(let sequence) = node else { return [] }
        return Array(sequence)
    }

    static func typeName(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull(node) { return "nothing (null)" }
            if scalar.style != .plain { return "the string \"\(scalar.string.prefix(40))\"" }
            if int(node) != nil { return "the number \(scalar.string)" }
            if bool(node) != nil { return "the boolean \(scalar.string)" }
            return "`\(scalar.string.prefix(40))`"
        }
    }
}
