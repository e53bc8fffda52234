import ArgumentParser
import EmmyApp
import Foundation

extension EmmyOps {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Manage EmmyApp API tokens (stored hashed; shown once).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Location: ParsableArguments {
            @Option(name: .long, help: ArgumentHelp("Path to the spec whose app.database holds the tokens (default: ./emmy.yaml when present, else SQLite under --data-dir).", valueName: "file"))
            var spec: String?

            @Option(name: .long, help: ArgumentHelp("EmmyApp's data directory.", valueName: "dir"))
            var dataDir: String = ServerEnvironment.current.dataDirectory()

            /// Runs `body` on the token store of the engine the spec names, as `serve` opens it.
            func withStore<Result: Sendable>(_ body: @Sendable (TokenStore) async throws -> Result) async throws -> Result {
                let options = try ServerOptions.parse(spec.map { ["--spec", $0] } ?? [])
                return try await StoreAccess.with(spec: try options.loadSpec(), dataDirectory: dataDir) { store in
                    try await body(TokenStore(database: store))
                }
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a token and print it; it cannot be shown again.")
            @Argument(help: "A unique name, e.g. the client that will use it.") var name: String
            @OptionGroup var location: Location
            @OptionGroup var output: FormatOption

            func run() async throws {
                do {
                    let token = try await location.withStore { try await $0.create(name: name) }
                    if output.json { try output.print(["name": name, "token": token]) } else { print(token) }
                } catch let failure as CommandFailure {
                    throw failure
                } catch {
                    throw CommandFailure.problem("cannot create token `\(name)`: a token with that name may already exist")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (never their values).")
            @OptionGroup var location: Location
            @OptionGroup var output: FormatOption

            struct Listed: Encodable {
                var name: String
                var id: String
                var createdAt: String
                var revokedAt: String?
            }

            func run() async throws {
                let tokens = try await location.withStore { try await $0.list() }
                if output.json {
                    try output.print(tokens.map { Listed(name: $0.name, id: $0.id, createdAt: DateText.iso8601($0.createdAt),
                                                         revokedAt: $0.revokedAt.map(DateText.iso8601)) })
                    return
                }
                for token in tokens {
                    let state = token.revokedAt.map { "revoked \(DateText.iso8601($0))" } ?? "active"
                    print("\(token.name)\t\(token.id)\tcreated \(DateText.iso8601(token.createdAt))\t\(state)")
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by name or id.")
            @Argument(help: "The token's name or id.") var name: String
            @OptionGroup var location: Location
            @OptionGroup var output: FormatOption

            func run() async throws {
                guard try await location.withStore({ try await $0.revoke(name) }) else {
                    throw CommandFailure.problem("no active token named `\(name)`")
                }
                if output.json { try output.print(["revoked": name]) } else { print("revoked \(name)") }
            }
        }
    }
}
