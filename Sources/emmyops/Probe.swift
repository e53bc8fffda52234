import ArgumentParser
import EmmyOpsKit

extension EmmyOps {
    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "GET a URL; exit 0 on a 2xx answer, 1 otherwise.",
            discussion: "Container healthchecks use it, so images need no curl or wget.")

        @Argument(help: "http:// URL to probe.")
        var url: String

        @Option(name: .long, help: "Seconds to wait for an answer.")
        var timeout: Double = 5

        @OptionGroup var output: FormatOption

        struct Answer: Encodable {
            var url: String
            var status: Int
        }

        func run() async throws {
            let result = await HTTPProbe.get(url, timeout: timeout)
            switch result {
            case .success(let status) where (200..<300).contains(status):
                if output.json { try output.print(Answer(url: url, status: status)) } else { print("\(url): \(status)") }
            case .success(let status):
                throw CommandFailure.problem("\(url): HTTP \(status)")
            case .failure(let error):
                throw CommandFailure.problem("\(url): \(error)")
            }
        }
    }
}
