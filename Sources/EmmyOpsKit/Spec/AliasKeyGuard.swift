import Yams

extension InputGuard {
    /// Stands in for `*` in the copy `composeScreeningAliasKeys` composes: a private-use
    /// character, one character for one, so every line and column of the copy is the original's.
    static let aliasStandIn: Character = "\u{E000}"
    private static let aliasStandInScalar: Unicode.Scalar = "\u{E000}"

    /// Composes the YAML after finding any alias used as a mapping key or anywhere inside one,
    /// however the key is written: `*a: 1`, `{[*a7]: 1}`, `{*a}`, `[{k: *a}: 1]`, `? [*a]`.
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
    ///
    /// Otherwise the original's tree: when it holds no alias at all (the usual `*` is in a cron
    /// line), that is the copy's with every stand-in turned back into `*`, so the text is
    /// parsed once, not twice (a tenth of loading a spec).
    static func composeScreeningAliasKeys(_ text: String) throws -> AliasScreen {
        // Bytes and scalars, not characters (Foundation's substring search goes through
        // NSString): where these tests find more than a character test would, they only take
        // the slower, equally correct way.
        guard text.utf8.contains(UInt8(ascii: "*")) else { return .composed(try compose(text)) }
        let copy = standingIn(text)
        let root: Node?
        do {
            root = try compose(copy)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // `{*a: 1, *a: 2}`: name the keys as they were written, not with the stand-in.
            throw YamlError.duplicatedKeysInMapping(duplicates: duplicates.map { String($0.map { $0 == aliasStandIn ? "*" : $0 }) },
                                                    context: context)
        }
        if let (line, column) = root.flatMap({ firstAliasInKey($0, inKey: false) }) { return .aliasInKey(line: line, column: column) }
        if !text.unicodeScalars.contains(aliasStandInScalar), let root, let original = restoringStars(root) { return .composed(original) }
        return .composed(try compose(text))
    }

    /// `text` with the stand-in for every `*` character (not a `*` an accent sits on, which is
    /// part of another character). In ASCII text every `*` byte is a character of its own.
    static func standingIn(_ text: String) -> String {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return String(text.map { $0 == "*" ? aliasStandIn : $0 }) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            if byte == UInt8(ascii: "*") { bytes.append(contentsOf: aliasStandInScalar.utf8) } else { bytes.append(byte) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Composes without Yams' implicit tag rules: the spec reader reads every scalar's text
    /// itself (`NodeReader`), so the only use of a resolved tag is Yams telling mapping keys
    /// apart while it checks for duplicates. The default resolver compiles seven
    /// NSRegularExpressions at first use (ICU's regex tables with them) and matches them against
    /// every key it hashes: a third of composing the example spec, for tags nothing reads. With
    /// no rules, keys are told apart by their text, as the spec reader sees them (`1` and `"1"`
    /// in one mapping are now a duplicate for Yams; the schema check refused them anyway).
    /// The constructor builds nothing (nodes are never converted with `Node.any`; the default
    /// one builds its tables on every parse), and UTF-8 is the text's own encoding (`.default`
    /// reads the environment on every parse).
    private static func compose(_ text: String) throws -> Node? {
        try Yams.compose(yaml: text, .basic, Constructor([:], [:], [:]), .utf8)
    }

    /// What `composeScreeningAliasKeys` found.
    enum AliasScreen {
        /// An alias used as a key or inside one, where it starts.
        case aliasInKey(line: Int, column: Int)
        /// The composed original (nil for an empty document).
        case composed(Node?)
    }

    /// The copy's node with `*` back in every scalar, or nil when the original had an alias
    /// (a plain scalar starting with the stand-in) or a stand-in in a tag or anchor name, where
    /// putting it back is not this simple. Tags stay as composed: no implicit type's pattern
    /// holds `*` or the stand-in, so a scalar holding either resolves to a string either way.
    ///
    /// Only called when the original held no stand-in, so every stand-in scalar in the copy is
    /// one the copy put for a `*` character, and a character of its own there as well (the
    /// stand-in breaks graphemes as `*` does): the scalar test finds what a character test
    /// would, without grapheme breaking every scalar and tag.
    private static func restoringStars(_ node: Node) -> Node? {
        func holdsStandIn(_ text: String) -> Bool { text.unicodeScalars.contains(aliasStandInScalar) }
        func restored(_ text: String) -> String {
            holdsStandIn(text) ? String(text.map { $0 == aliasStandIn ? "*" : $0 }) : text
        }
        func plain(_ tag: Tag, _ anchor: Anchor?) -> Bool {
            !holdsStandIn(tag.rawValue) && !(anchor.map { holdsStandIn($0.rawValue) } ?? false)
        }
        switch node {
        case .scalar(let scalar):
            guard !(scalar.style == .plain && scalar.string.first == aliasStandIn), plain(scalar.tag, scalar.anchor) else { return nil }
            return .scalar(Node.Scalar(restored(scalar.string), scalar.tag, scalar.style, scalar.mark, scalar.anchor))
        case .sequence(let sequence):
            guard plain(sequence.tag, sequence.anchor) else { return nil }
            var items: [Node] = []
            for item in sequence {
                guard let item = restoringStars(item) else { return nil }
                items.append(item)
            }
            return .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark, sequence.anchor))
        case .mapping(let mapping):
            guard plain(mapping.tag, mapping.anchor) else { return nil }
            var pairs: [(Node, Node)] = []
            for (key, value) in mapping {
                guard let key = restoringStars(key), let value = restoringStars(value) else { return nil }
                pairs.append((key, value))
            }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark, mapping.anchor))
        case .alias:
            return nil
        }
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
