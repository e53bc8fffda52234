import Foundation

/// `terraform/cloud-init.yaml`: the host's first boot, from Templates/cloud-init/user-data and
/// Templates/systemd/emmyops.service. Terraform passes it through `templatefile()`, so the only
/// `${…}` it may contain is the deploy key's placeholder.
enum TerraformCloudInit {
    /// The unprivileged user emmyops runs as.
    static let serviceUser = "emmy"
    /// The pinned release cloud-init installs, for operators on the host (`emmyops status`);
    /// the unit runs the deployed release under `current`.
    static let binary = "/usr/local/bin/emmyops"

    /// Values the two templates read (by property name).
    struct Unit {
        let header = GeneratedHeader.lines[0]
        let project: String
        let appName: String
        let serviceUser = TerraformCloudInit.serviceUser
        /// The release layout under `deploy.root`: `releases/<version>/` (binary and spec),
        /// `shared/` (data, secrets.env) and the `current` symlink the deploy switches.
        /// (Stored, not computed: templates read properties through reflection.)
        let binary: String
        let specPath: String
        let environmentFile: String
        let dataDir: String
        /// Longer than the supervisor's drain timeout, so systemd never kills a draining app.
        let stopTimeoutSeconds: Int64

        init(project: String, appName: String, root: String, stopTimeoutSeconds: Int64) {
            (self.project, self.appName, self.stopTimeoutSeconds) = (project, appName, stopTimeoutSeconds)
            (binary, specPath) = ("\(root)/current/emmyops", "\(root)/current/emmy.yaml")
            (dataDir, environmentFile) = ("\(root)/shared", "\(root)/shared/secrets.env")
        }
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
        let root: String
        let dataDir: String
        let release: Download?
        /// The systemd unit, indented for its `content: |` block.
        let unit: String
    }

    static func file(_ context: TerraformContext) -> RenderedFile {
        RenderedFile(path: OutputPath.cloudInit, contents: userData(context))
    }

    static func unit(_ spec: Spec) -> String {
        render("systemd/emmyops.service", Unit(project: spec.project, appName: spec.app.name, root: spec.deploy.root,
                                               stopTimeoutSeconds: (spec.supervise.drainTimeout.milliseconds + 999) / 1000 + 15))
    }

    static func userData(_ context: TerraformContext) -> String {
        let release = context.spec.release
        let download = release.url.flatMap { url in
            release.sha256.map { UserData.Download(version: release.version, url: quoted(url), sha256: $0) }
        }
        let unit = unit(context.spec).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "      \($0)" }.joined(separator: "\n")
        let data = UserData(project: context.spec.project, deployUser: context.sshUser, sshPort: context.sshPort, root: context.spec.deploy.root,
                            dataDir: context.spec.deploy.root + "/shared",
                            release: download, unit: unit.hasSuffix("\n") ? String(unit.dropLast()) : unit)
        let text = render("cloud-init/user-data", data)
        // templatefile() would read any other `${` or `%{` as its own syntax: escape them, then
        // put the one real placeholder back.
        let escaped = text.replacingExactly(keyPlaceholder, with: "\u{0}")
            .replacingExactly("${", with: "$${").replacingExactly("%{", with: "%%{")
            .replacingExactly("\u{0}", with: keyPlaceholder)
        return escaped.hasSuffix("\n") ? escaped : escaped + "\n"
    }

    /// For a value inside single quotes in a shell script: close, escape and reopen any quote in it.
    private static func quoted(_ value: String) -> String {
        value.replacingExactly("'", with: "'\\''")
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
