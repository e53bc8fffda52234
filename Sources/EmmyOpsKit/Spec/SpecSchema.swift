import EmmyApp

/// The shape of emmy.yaml: which keys exist, what each holds, and what it means.
///
/// One declaration drives the loader's structural checks (unknown keys, wrong types) and the
/// JSON Schema `emmyops schema` prints, so the two cannot disagree.
public indirect enum SchemaType: Sendable {
    case string
    /// A string that may be a `${SECRET}` reference.
    case secretOrString
    /// A `${SECRET}` reference and nothing else.
    case secret
    case integer(min: Int, max: Int)
    case boolean
    case port
    case duration
    case percent
    /// A request rate such as `5/minute`.
    case rate
    case enumeration([String])
    case list(SchemaType)
    case object([SchemaField])
    /// A mapping with free-form keys (receiver names, environment variables).
    case map(SchemaType)
}

public struct SchemaField: Sendable {
    public var name: String
    public var type: SchemaType
    public var required: Bool
    /// Builds the description. Loading a spec walks the schema for its keys and types only,
    /// while writing every description (defaults printed as percentages, durations, joined
    /// lists) cost 7% of `render all`; so the text is made when the docs or `schema` read it.
    private var describe: @Sendable () -> String

    /// What the field holds, as `emmyops schema` and the docs print it.
    public var description: String {
        get { describe() }
        set { describe = { newValue } }
    }

    public init(_ name: String, _ type: SchemaType, _ description: @autoclosure @escaping @Sendable () -> String, required: Bool = false) {
        self.name = name
        self.type = type
        self.required = required
        self.describe = description
    }
}

public enum SpecSchema {
    public static let root: SchemaType = .object([
        SchemaField("version", .integer(min: 1, max: 1), "Spec format version; always 1.", required: true),
        SchemaField("project", .string, "Project name, used in labels and resource names."),
        app,
        hosts,
        monitoring,
        alerts,
        slo,
        notify,
        incident,
        release,
        backup,
        infrastructure,
        github,
        supervise,
        ssh,
        deploy,
    ])
}
