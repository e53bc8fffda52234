@testable import EmmyApp
import Testing

@Suite struct MessageTemplateTests {
    @Test func fillsPlaceholdersCaseInsensitively() throws {
        let template = try MessageTemplate("Hello { Name }, welcome to {company}!")
        #expect(template.fields == ["name", "company"])
        #expect(try template.render(["name": "Amina", "company": "Acme"]) == "Hello Amina, welcome to Acme!")
    }

    @Test func doubledBracesAreLiteral() throws {
        let template = try MessageTemplate("Use {{code}} as {code}}}")
        #expect(template.fields == ["code"])
        #expect(try template.render(["code": "42"]) == "Use {code} as 42}")
    }

    @Test(arguments: [
        ("Hello {name", MessageTemplate.ParseError.unclosedPlaceholder(offset: 6)),
        ("Hello name}", .strayClosingBrace(offset: 10)),
        ("Hello {}", .emptyPlaceholder(offset: 6)),
        ("Hello {a{b}}", .nestedBrace(offset: 8)),
    ])
    func malformedTemplatesAreRejected(_ source: String, _ expected: MessageTemplate.ParseError) {
        #expect(throws: expected) { try MessageTemplate(source) }
    }

    @Test func nothingElseIsInterpreted() throws {
        // Python str.format attacks from the seed are plain placeholder names here.
        let template = try MessageTemplate("{name.__class__} {name:>5000000} {0} {name!r}")
        #expect(template.fields == ["name.__class__", "name:>5000000", "0", "name!r"])
        #expect(throws: MessageTemplate.RenderError.missingField("name.__class__")) { try template.render(["name": "x"]) }
        let values = ["name.__class__": "a", "name:>5000000": "b", "0": "c", "name!r": "d"]
        #expect(try template.render(values) == "a b c d")
        // Values are inserted verbatim, never re-parsed as templates.
        #expect(try MessageTemplate("Hi {name}").render(["name": "{other} <script>"]) == "Hi {other} <script>")
    }

    @Test func missingOrEmptyValuesNameTheField() throws {
        let template = try MessageTemplate("Hi {name} from {company}")
        #expect(throws: MessageTemplate.RenderError.missingField("company")) { try template.render(["name": "A"]) }
        #expect(throws: MessageTemplate.RenderError.missingField("name")) { try template.render(["name": "", "company": "B"]) }
    }

    @Test func lengthIsCapped() throws {
        let template = try MessageTemplate("{body}")
        #expect(try template.render(["body": String(repeating: "a", count: 1600)]).count == 1600)
        #expect(throws: MessageTemplate.RenderError.tooLong(length: 1601)) {
            try template.render(["body": String(repeating: "a", count: 1601)])
        }
        // A megabyte value is refused without building the whole message.
        #expect(throws: (any Error).self) { try template.render(["body": String(repeating: "x", count: 1 << 20)]) }
    }
}
