import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Secrets: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "secrets",
            abstract: "Place the secrets the spec references on the hosts.",
            subcommands: [Push.self])

        struct Push: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "push",
                abstract: "Write every ${NAME} the spec references to the hosts that read it, mode 0600.",
                discussion: """
                App hosts get <root>/shared/secrets.env (KEY=VALUE, the release's environment from \
                its next deploy on); monitoring hosts get one file per Alertmanager secret in \
                monitoring.alertmanager.secrets_dir. Values come from this shell's environment \
                (--from-env) or a KEY=VALUE file (--env-file), never from the spec; they are never \
                printed, and the audit log names the keys only.
                """)

            @OptionGroup var fleet: FleetOptions

            @Flag(name: .long, help: "Read the values from this process's environment.")
            var fromEnv = false

            @Option(name: .long, help: ArgumentHelp("Read the values from a KEY=VALUE file.", valueName: "file"))
            var envFile: String?

            func validate() throws {
                try fleet.validateSelection()
                if fromEnv == (envFile != nil) { throw ValidationError("give --from-env or --env-file FILE") }
            }

            /// One host's keys, the line `--format json` prints per host (names only, never values).
            struct Written: Encodable {
                var host: String
                var wrote: [String]
            }

            func run() throws {
                let (spec, targets) = try fleet.load(roles: [.app, .monitoring])
                let values: SecretValues
                let source: String
                if let envFile {
                    guard let text = try? String(contentsOfFile: envFile, encoding: .utf8) else {
                        throw CommandFailure.environment("cannot read \(envFile)")
                    }
                    values = try SecretValues.parse(envFile: text, path: envFile)
                    source = envFile
                } else {
                    values = SecretValues(ProcessInfo.processInfo.environment)
                    source = "the environment"
                }
                let push = try SecretsPush(spec: spec, values: values, source: source, who: FleetOptions.who)
                let answers = try fleet.withTransports(spec) { runner in
                    FleetQuery.each(targets) { target in (target.host.name, try push.push(to: target, runner: runner(target))) }
                }
                let (written, failure) = FleetAnswers.split(answers)
                for (host, keys) in written {
                    if fleet.format == .json {
                        try FormatOption.printJSON(Written(host: host, wrote: keys), oneLine: true)
                        continue
                    }
                    print("[\(host)] wrote \(keys.isEmpty ? "no secrets (none for its roles)" : keys.joined(separator: ", "))")
                }
                if let failure { throw failure }
                Output.note("the app reads secrets.env when a release starts: deploy to apply it")
            }
        }
    }
}
