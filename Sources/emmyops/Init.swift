import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Write a commented example emmy.yaml.",
            discussion: "The example is valid as written: `emmyops validate` and `emmyops render all` work on it at once.")

        @Option(name: .long, help: ArgumentHelp("Directory to write emmy.yaml into.", valueName: "dir"))
        var dir: String = "."

        @Flag(name: .long, help: "Overwrite an existing emmy.yaml.")
        var force = false

        @OptionGroup var output: FormatOption

        func run() throws {
            let url = URL(fileURLWithPath: dir).appendingPathComponent("emmy.yaml")
            if FileManager.default.fileExists(atPath: url.path) && !force {
                throw CommandFailure.problem("\(url.path) already exists; pass --force to overwrite it")
            }
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try Data(ExampleSpec.text.utf8).write(to: url, options: .atomic)
            } catch {
                throw CommandFailure.environment("cannot write \(url.path): \(error.localizedDescription)")
            }
            if output.json { try output.print(["wrote": url.path]) } else { print("wrote \(url.path)") }
        }
    }
}
