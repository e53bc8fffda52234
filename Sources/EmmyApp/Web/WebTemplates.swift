import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The web UI's pages, parsed once from the templates embedded from Templates/web/.
///
/// `{{value}}` HTML-escapes (`<`, `>`, `&`, `"`, `'`); templates never use `{{{…}}}`, so text
/// from a CSV or a message template is always shown as text (WebTests checks both).
struct WebTemplates: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, source) in EmbeddedWebTemplates.pages {
            try library.register(source, named: name)
        }
        self.library = library
    }

    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "no web template named \(name)" }
    }

    func render(_ name: String, _ context: Any) throws -> String {
        guard let html = library.render(context, withTemplate: name) else { throw Missing(name: name) }
        return html
    }

    /// A page as an HTML response.
    func page(_ name: String, _ context: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try render(name, context))))
    }

    /// `/static/NAME`: the stylesheet and script, cacheable for a short while.
    static func asset(_ name: String) -> Response? {
        guard let text = EmbeddedWebTemplates.assets[name] else { return nil }
        var headers = HTTPFields()
        headers[.contentType] = name.hasSuffix(".css") ? "text/css; charset=utf-8" : name.hasSuffix(".js") ? "text/javascript; charset=utf-8"
            : name.hasSuffix(".json") ? "application/json; charset=utf-8" : "text/plain; charset=utf-8"
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
