/// A JSON value built in code, written as Foundation's `JSONEncoder` writes it with
/// `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`: two-space indents, `"key" : value`,
/// keys in UTF-8 order, only `"`, `\` and control characters escaped.
///
/// The Grafana dashboards are written with it: encoding them through `Codable` instantiated a
/// generic container per type at run time, and each of those looks its conformances up in the
/// binary's whole conformance table (a twentieth of `render all`). `GrafanaRendererTests`
/// checks that the text is `JSONEncoder`'s, byte for byte.
indirect enum JSONText {
    /// Members whose value is nil are left out, as `Codable` leaves out nil optionals.
    case object([(key: String, value: JSONText?)])
    case array([JSONText])
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    /// The pretty-printed text, without a trailing newline.
    var pretty: String {
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    private func write(into out: inout String, indent: Int) {
        switch self {
        case .string(let text): JSONText.quote(text, into: &out)
        case .int(let value): out += String(value)
        case .double(let value):
            // JSONEncoder writes `description` without a trailing `.0` (`1`, not `1.0`).
            let text = value.description
            out += text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        case .bool(let value): out += value ? "true" : "false"
        case .array(let items):
            writeBlock("[", "]", items.count, into: &out, indent: indent) { index, out in
                items[index].write(into: &out, indent: indent + 2)
            }
        case .object(let members):
            let present = members.compactMap { member in member.value.map { (key: member.key, value: $0) } }
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            writeBlock("{", "}", present.count, into: &out, indent: indent) { index, out in
                JSONText.quote(present[index].key, into: &out)
                out += " : "
                present[index].value.write(into: &out, indent: indent + 2)
            }
        }
    }

    /// JSONEncoder's layout, empty collections included (`[`, a blank line, `]`).
    private func writeBlock(_ open: String, _ close: String, _ count: Int, into out: inout String, indent: Int,
                            _ element: (Int, inout String) -> Void) {
        let inner = String(repeating: " ", count: indent + 2)
        out += open + "\n"
        for index in 0..<count {
            if index > 0 { out += ",\n" }
            out += inner
            element(index, &out)
        }
        out += "\n" + String(repeating: " ", count: indent) + close
    }

    private static func quote(_ text: String, into out: inout String) {
        out += "\""
        // Most keys and values hold nothing to escape, all of which is ASCII (so found among
        // the bytes): appended whole rather than scalar by scalar.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
