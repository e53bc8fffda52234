import ArgumentParser
import EmmyOpsKit

extension EmmyOps {
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Print the JSON Schema of emmy.yaml.",
            discussion: "Point your editor's YAML language server at it: `# yaml-language-server: $schema=emmy.schema.json`.")

        func run() {
            print(JSONSchemaRenderer.render(), terminator: "")
        }
    }
}
