import Foundation

/// Renders `SpecSchema` as a JSON Schema (draft 2020-12) for editor completion and checks.
public enum JSONSchemaRenderer {
    public static func render() -> String {
        var root = node(SpecSchema.root, description: "emmy.yaml: one file that describes an SMS service and its operations.")
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        root["$id"] = "https://emmyops.dev/schema/emmy-v1.json"
        root["title"] = "emmy.yaml"
        let data = try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static let durationPattern = "^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$"
    static let percentPattern = "^[0-9]+(\\.[0-9]+)?%$"
    static let secretPattern = "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$"

    private static func node(_ type: SchemaType, description: String?) -> [String: Any] {
        var out: [String: Any] = [:]
        if let description { out["description"] = description }
        switch type {
        case .string, .secretOrString: out["type"] = "string"
        case .secret: out["type"] = "string"; out["pattern"] = secretPattern
        case .integer(let min, let max): out["type"] = "integer"; out["minimum"] = min; out["maximum"] = max
        case .boolean: out["type"] = "boolean"
        case .port: out["type"] = "integer"; out["minimum"] = 1; out["maximum"] = 65535
        case .duration: out["type"] = "string"; out["pattern"] = durationPattern
        case .percent: out["type"] = "string"; out["pattern"] = percentPattern
        case .rate: out["type"] = "string"; out["pattern"] = "^[0-9]+/(second|minute|hour|day)$"
        case .enumeration(let values): out["type"] = "string"; out["enum"] = values
        case .list(let item): out["type"] = "array"; out["items"] = node(item, description: nil)
        case .map(let value):
            out["type"] = "object"
            out["additionalProperties"] = node(value, description: nil)
        case .object(let fields):
            out["type"] = "object"
            out["additionalProperties"] = false
            var properties: [String: Any] = [:]
            for field in fields { properties[field.name] = node(field.type, description: field.description) }
            out["properties"] = properties
            let required = fields.filter(\.required).map(\.name)
            if !required.isEmpty { out["required"] = required }
        }
        return out
    }
}
