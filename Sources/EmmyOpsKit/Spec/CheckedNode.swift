/// What the `SchemaChecker`'s one walk over the YAML tree accepted: unknown keys, nulls, values
/// of the wrong shape or type and anything past the node budget are left out (each was reported
/// with its location), so `SpecBuilder` reads only values the schema allows, and the YAML tree
/// is walked exactly once.
indirect enum CheckedNode: Sendable {
    case scalar(String)
    /// Keys in the order written.
    case mapping([Entry])
    case sequence([CheckedNode])

    struct Entry: Sendable {
        let key: String
        let value: CheckedNode
    }
}

/// Accessors `SpecBuilder`'s section readers use on checked values. Every accessor takes an
/// optional so a reader can chain through keys that were not written.
enum CheckedReader {
    static func value(_ node: CheckedNode?, _ key: String) -> CheckedNode? {
        pairs(node).first { $0.key == key }?.value
    }

    static func string(_ node: CheckedNode?) -> String? {
        guard case .scalar(let text)? = node else { return nil }
        return text
    }

    /// The schema has already checked that integer, port and count fields hold plain integers.
    static func int(_ node: CheckedNode?) -> Int? {
        string(node).flatMap { Int($0) }
    }

    static func bool(_ node: CheckedNode?) -> Bool? {
        switch string(node) {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// Key/value pairs of a mapping, in the order written.
    static func pairs(_ node: CheckedNode?) -> [(key: String, value: CheckedNode)] {
        guard case .mapping(let entries)? = node else { return [] }
        return entries.map { ($0.key, $0.value) }
    }

    /// Items of a list; nil when the value is not a list.
    static func list(_ node: CheckedNode?) -> [CheckedNode]? {
        guard case .sequence(let items)? = node else { return nil }
        return items
    }

    static func items(_ node: CheckedNode?) -> [CheckedNode] {
        list(node) ?? []
    }
}
