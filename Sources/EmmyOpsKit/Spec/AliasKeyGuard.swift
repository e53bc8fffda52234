import Yams

extension InputGuard {
    /// Stands in for `*` in the copy `firstAliasInKey` composes: a private-use character, one
    /// character for one, so every line and column of the copy is the original's.
    static let aliasStandIn: Character = "\u{E000}"

    /// Finds an alias used as a mapping key or anywhere inside one, however the key is written:
    /// `*a: 1`, `{[*a7]: 1}`, `{*a}`, `[{k: *a}: 1]`, `? [*a]`.
    ///
    /// Yams checks every mapping for duplicate keys by hashing the keys, and hashing an alias
    /// walks its whole expansion: a key holding `*a7` of the usual ladder (each anchor a list of
    /// eight aliases of the previous one) hashes millions of nodes, and each level multiplies
    /// that by eight. Recognising keys in raw text would mean re-implementing YAML's key rules
    /// (flow collections, multi-line keys, quoting), so this asks the YAML parser itself, on a
    /// copy that cannot explode: every `*` becomes `aliasStandIn`. An alias token of the
    /// original is then a plain scalar starting with the stand-in, at the same line and column;
    /// every other `*` (in quotes, comments, mid-scalar) only changes text. The copy has no
    /// aliases, so composing it costs time linear in its size.
    ///
    /// Throws the copy's `YamlError` when it does not parse: the original fails at the same
    /// place, and it must not reach Yams before its keys have been seen.
    static func firstAliasInKey(_ text: String) throws -> (line: Int, column: Int)? {
        guard text.contains("*") else { return nil }
        let copy = String(text.map { $0 == "*" ? aliasStandIn : $0 })
        let root: Node?
        do {
            root = try Yams.compose(yaml: copy)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // `{*a: 1, *a: 2}`: name the keys as they were written, not with the stand-in.
            throw YamlError.duplicatedKeysInMapping(duplicates: duplicates.map { String($0.map { $0 == aliasStandIn ? "*" : $0 }) },
                                                    context: context)
        }
        return root.flatMap { firstAliasInKey($0, inKey: false) }
    }

    /// Walks the composed copy; `inKey` is whether `node` is a key or lies inside one.
    private static func firstAliasInKey(_ node: Node, inKey: Bool) -> (line: Int, column: Int)? {
        switch node {
        case .scalar(let scalar):
            guard inKey, scalar.style == .plain, scalar.string.first == aliasStandIn else { return nil }
            return (scalar.mark?.line ?? 1, scalar.mark?.column ?? 1)
        case .sequence(let sequence):
            for item in sequence {
                if let found = firstAliasInKey(item, inKey: inKey) { return found }
            }
            return nil
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let found = firstAliasInKey(key, inKey: true) ?? firstAliasInKey(value, inKey: inKey) { return found }
            }
            return nil
        case .alias:
            return nil
        }
    }
}
