import ArgumentParser
import EmmyOpsKit
import Foundation

extension EmmyOps {
    struct Hosts: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hosts",
            abstract: "Check (or write) the spec's host addresses against what Terraform built.",
            discussion: """
            The rendered Terraform creates one instance per spec host at its private_address and \
            an Elastic IP that AWS picks. After `terraform apply`, this compares each host's \
            address and private_address with the public_ips and private_ips outputs and names \
            every mismatch at its spec line (exit 1). --write replaces the stale values in the \
            spec file itself, keeping its comments and layout; a host only one side has is \
            reported for you to settle. Outputs come from `terraform -chdir=DIR output -json`, \
            or from a file holding that command's output (--outputs FILE, - for stdin).
            """)

        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: FormatOption

        @Option(name: .long, help: ArgumentHelp("Terraform working directory to read the outputs of.", valueName: "dir"))
        var fromTerraform: String?

        @Option(name: .long, help: ArgumentHelp("A saved `terraform output -json` (- for stdin).", valueName: "file"))
        var outputs: String?

        @Flag(name: .long, help: "Write Terraform's addresses into the spec instead of only checking.")
        var write = false

        func validate() throws {
            if (fromTerraform == nil) == (outputs == nil) { throw ValidationError("give --from-terraform DIR or --outputs FILE") }
        }

        func run() throws {
            let spec = try specOptions.load()
            let terraform: TerraformHosts
            do {
                terraform = try TerraformHosts(outputsJSON: try readOutputs())
            } catch let error as TerraformHosts.ReadError {
                throw CommandFailure.problem("\(error)")
            }
            var mismatches = terraform.mismatches(with: spec)
            var written = 0
            if write && !mismatches.isEmpty {
                guard let text = try? String(contentsOfFile: specOptions.spec, encoding: .utf8) else {
                    throw CommandFailure.environment("cannot read \(specOptions.spec)")
                }
                let (corrected, unfixable) = terraform.corrected(text, spec: spec)
                // Keeps the spec's mode; readers see the old text or the new, never half.
                let mode = (try? FileManager.default.attributesOfItem(atPath: specOptions.spec)[.posixPermissions] as? Int) ?? 0o644
                try AtomicFile.write(Data(corrected.utf8), to: specOptions.spec, mode: mode)
                written = mismatches.count - unfixable.count
                mismatches = unfixable
            }
            if output.json {
                try output.print(Report(ok: mismatches.isEmpty, written: written, mismatches: mismatches))
            } else {
                if written > 0 { print("wrote \(written) address(es) from Terraform into \(specOptions.spec)") }
                for mismatch in mismatches { print(mismatch) }
                if mismatches.isEmpty { print("\(spec.hosts.count) host(s) agree with Terraform") }
            }
            if !mismatches.isEmpty {
                throw CommandFailure.problem(write ? "\(mismatches.count) mismatch(es) need a spec or Terraform change"
                                                   : "\(mismatches.count) mismatch(es): run with --write to take Terraform's addresses")
            }
        }

        struct Report: Encodable {
            var ok: Bool
            var written: Int
            var mismatches: [TerraformHosts.Mismatch]
        }

        private func readOutputs() throws -> Data {
            if let outputs {
                let data = outputs == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: outputs)
                guard let data else { throw CommandFailure.environment("cannot read \(outputs)") }
                return data
            }
            let directory = fromTerraform ?? "."
            guard let terraform = ProcessRunner.which("terraform") ?? ProcessRunner.which("tofu") else {
                throw CommandFailure.environment("terraform is not on PATH (or save `terraform output -json` and pass --outputs FILE)")
            }
            let result = try ProcessRunner().run(terraform, ["-chdir=\(directory)", "output", "-json"], timeout: 120)
            guard result.status == 0 else {
                throw CommandFailure.environment("terraform output in \(directory) failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return Data(result.stdout.utf8)
        }
    }
}
