import Foundation

/// `terraform/cloud-init.yaml`: the host's first boot, from Templates/cloud-init/user-data and
/// Templates/systemd/emmyops.service. Terraform passes it through `templatefile()`, so the only
/// `${…}` it may contain is the deploy key's placeholder.
enum TerraformCloudInit {
    /// The unprivileged user emmyops runs as.
    static let serviceUser = "emmy"
    static let binary = "/usr/local/bin/emmyops"
    static let configDir = "/etc/emmyops"
    static let dataDir = "/var/lib/emmyops"

    /// Values the two templates read (by property name).
    struct Unit {
        let header = GeneratedHeader.lines[0]
        let project: String
        let appName: String
        let serviceUser = TerraformCloudInit.serviceUser
        let binary = TerraformCloudInit.binary
        let specPath = "\(TerraformCloudInit.configDir)/emmy.yaml"
        let environmentFile = "\(TerraformCloudInit.configDir)/environment"
        let dataDir = TerraformCloudInit.dataDir
        let stateDirectory = "emmyops"
    }

    struct UserData {
        struct Download {
            let version: String
            let url: String
            let sha256: String
        }

        let header = GeneratedHeader.lines[0]
        let project: String
        let serviceUser = TerraformCloudInit.serviceUser
        let deployUser: String
        let sshPort: Int
        let binary = TerraformCloudInit.binary
        let configDir = TerraformCloudInit.configDir
        let dataDir = TerraformCloudInit.dataDir
        let release: Download?
        /// The systemd unit, indented for its `content: |` block.
        let unit: String
    }

    static func file(_ context: TerraformContext) -> RenderedFile {
        RenderedFile(path: "terraform/cloud-init.yaml", contents: userData(context))
    }

    static func unit(_ spec: Spec) -> String {
        render("systemd/emmyops.service", Unit(project: spec.project, appName: spec.app.name))
    }

    static func userData(_ context: TerraformContext) -> String {
        let release = context.spec.release
        // The URL sits in single quotes in a shell script: close, escape and reopen any quote in it.
        let download = release.url.flatMap { url in
            release.sha256.map { UserData.Download(version: release.version, url: url.replacingOccurrences(of: "'", with: "'\\''"), sha256: $0) }
        }
        let unit = unit(context.spec).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "      \($0)" }.joined(separator: "\n")
        let data = UserData(project: context.spec.project, deployUser: context.sshUser, sshPort: context.sshPort,
                            release: download, unit: unit.hasSuffix("\n") ? String(unit.dropLast()) : unit)
        let text = render("cloud-init/user-data", data)
        // templatefile() would read any other `${` or `%{` as its own syntax: escape them, then
        // put the one real placeholder back.
        let escaped = text.replacingOccurrences(of: keyPlaceholder, with: "\u{0}")
            .replacingOccurrences(of: "${", with: "$${").replacingOccurrences(of: "%{", with: "%%{")
            .replacingOccurrences(of: "\u{0}", with: keyPlaceholder)
        return escaped.hasSuffix("\n") ? escaped : escaped + "\n"
    }

    /// The only templatefile() interpolation in cloud-init.yaml.
    static let keyPlaceholder = "${ssh_public_key}"

    /// The templates are embedded and covered by TemplateTests, so a failure here is a build defect.
    private static func render(_ name: String, _ context: Any) -> String {
        do {
            return try TemplateLibrary.render(name, context)
        } catch {
            return "# cannot render \(name): \(error)\n"
        }
    }
}
