import Mustache

/// Renders the Mustache templates embedded from Templates/.
///
/// Templates here produce config text, not HTML: every template starts with
/// `{{% CONTENT_TYPE: TEXT}}` so values are inserted verbatim, and callers pass only values
/// the spec validated.
public enum TemplateLibrary {
    public enum Failure: Error, CustomStringConvertible {
        case unknown(String)
        case invalid(String, Error)

        public var description: String {
            switch self {
            case .unknown(let name): "no template named \(name)"
            case .invalid(let name, let error): "template \(name) does not parse: \(error)"
            }
        }
    }

    public static var names: [String] { EmbeddedTemplates.all.keys.sorted() }

    public static func render(_ name: String, _ context: Any) throws -> String {
        guard let source = EmbeddedTemplates.all[name] else { throw Failure.unknown(name) }
        do {
            return try MustacheTemplate(string: source).render(context)
        } catch {
            throw Failure.invalid(name, error)
        }
    }
}
