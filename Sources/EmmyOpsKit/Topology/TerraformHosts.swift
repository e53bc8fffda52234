import Foundation

/// The spec's host addresses against what Terraform built. The rendered Terraform creates one
/// instance per spec host at its `private_address` and gives it an Elastic IP that AWS picks, so
/// after `terraform apply` the spec's `address` must be copied from the `public_ips` output:
/// `emmyops hosts --from-terraform` checks (or writes) exactly that, and names every mismatch at
/// the spec line that holds the stale value.
public struct TerraformHosts: Sendable, Equatable {
    /// Host name → address, from the `public_ips` and `private_ips` outputs.
    public var publicAddresses: [String: String]
    public var privateAddresses: [String: String]

    public init(publicAddresses: [String: String], privateAddresses: [String: String]) {
        self.publicAddresses = publicAddresses
        self.privateAddresses = privateAddresses
    }

    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case notJSON
        case missingOutput(String)

        public var description: String {
            switch self {
            case .notJSON:
                return "the Terraform outputs are not the JSON of `terraform output -json`"
            case .missingOutput(let name):
                return "the Terraform outputs have no `\(name)` map: is this the Terraform `emmyops render terraform` wrote, and has it been applied?"
            }
        }
    }

    /// Reads `terraform output -json`: `{"public_ips": {"value": {"prod-1": "…"}, …}, …}`.
    public init(outputsJSON data: Data) throws {
        guard let outputs = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw ReadError.notJSON }
        func addresses(_ name: String) throws -> [String: String] {
            guard let value = (outputs[name] as? [String: Any])?["value"] as? [String: Any] else { throw ReadError.missingOutput(name) }
            return value.compactMapValues { $0 as? String }
        }
        self.init(publicAddresses: try addresses("public_ips"), privateAddresses: try addresses("private_ips"))
    }

    /// One value of the spec that Terraform disagrees with (or a host one side lacks).
    public struct Mismatch: Sendable, Equatable, Codable, CustomStringConvertible {
        public var host: String
        /// `address`, `private_address`, or `host` when one side lacks the host.
        public var field: String
        public var spec: String?
        public var terraform: String?
        /// Where the stale value is (the host's entry when the value is missing).
        public var location: SourceLocation?

        public var description: String {
            let at = location.map { "\($0): " } ?? ""
            switch (field, spec, terraform) {
            case ("host", nil, _): return "\(at)Terraform has host `\(host)`, which the spec does not list"
            case ("host", _, nil): return "\(at)host `\(host)` is not in the Terraform outputs (added after the last apply?)"
            default: return "\(at)\(host).\(field) is \(spec.map { "`\($0)`" } ?? "unset") in the spec, `\(terraform ?? "")` in Terraform"
            }
        }
    }

    /// Every disagreement, in spec order then Terraform's extra hosts by name.
    public func mismatches(with spec: Spec) -> [Mismatch] {
        var found: [Mismatch] = []
        for (index, host) in spec.hosts.enumerated() {
            let path = "hosts[\(index)]"
            guard let publicAddress = publicAddresses[host.name] else {
                found.append(Mismatch(host: host.name, field: "host", spec: host.name, terraform: nil, location: spec.sourceMap.location(of: path)))
                continue
            }
            if publicAddress != host.address {
                found.append(Mismatch(host: host.name, field: "address", spec: host.address, terraform: publicAddress,
                                      location: spec.sourceMap.location(of: path + ".address")))
            }
            if let privateAddress = privateAddresses[host.name], privateAddress != (host.privateAddress ?? host.address) {
                found.append(Mismatch(host: host.name, field: "private_address", spec: host.privateAddress, terraform: privateAddress,
                                      location: spec.sourceMap.location(of: path + (host.privateAddress == nil ? "" : ".private_address"))))
            }
        }
        let listed = Set(spec.hosts.map(\.name))
        for name in publicAddresses.keys.sorted() where !listed.contains(name) {
            found.append(Mismatch(host: name, field: "host", spec: nil, terraform: publicAddresses[name], location: nil))
        }
        return found
    }

    /// The spec text with every stale `address` and `private_address` replaced by Terraform's,
    /// everything else (comments, layout, quoting style) kept. Mismatches that an edit of one
    /// value cannot fix — a host only one side has, a `private_address` the spec does not set —
    /// are returned for the operator to settle.
    public func corrected(_ text: String, spec: Spec) -> (text: String, unfixable: [Mismatch]) {
        var edits: [SpecTextEdit.Replacement] = []
        var unfixable: [Mismatch] = []
        for mismatch in mismatches(with: spec) {
            guard mismatch.field != "host", let old = mismatch.spec, let new = mismatch.terraform, let location = mismatch.location else {
                unfixable.append(mismatch)
                continue
            }
            edits.append(.init(line: location.line, column: location.column, old: old, new: new))
        }
        return (SpecTextEdit.replacing(edits, in: text), unfixable)
    }
}
