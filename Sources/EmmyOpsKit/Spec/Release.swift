// The `release:` section, whole: the model, its checks, its schema and how it is read from the
// checked YAML values. A new key is added here and nowhere else.

/// The `release:` section: the emmyops binary hosts install, pinned by checksum.
public struct Release: Sendable, Hashable {
    public var version: String
    public var url: String?
    public var sha256: String?
    public init(version: String = "0.1.0", url: String? = nil, sha256: String? = nil) {
        self.version = version
        self.url = url
        self.sha256 = sha256
    }
}

extension SpecValidation {
    /// A download is only ever installed over TLS and with its checksum.
    static func validateRelease(_ spec: Spec, error: (String, String, String?) -> Void) {
        if let url = spec.release.url, !url.hasPrefix("https://") {
            error("release.url", "`\(url)` must be an https:// URL", "the binary is verified by checksum, but fetch it over TLS too")
        }
        if let sha = spec.release.sha256, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
            error("release.sha256", "must be 64 hexadecimal digits", "compute it with `sha256sum emmyops`")
        }
        if (spec.release.url == nil) != (spec.release.sha256 == nil) {
            error(spec.release.url == nil ? "release.sha256" : "release.url", "release.url and release.sha256 go together", "a download without a checksum is never installed")
        }
    }
}

// MARK: - Schema

extension SpecSchema {
    static let release = SchemaField("release", .object([
        SchemaField("version", .string, "emmyops version hosts run (default \(Release().version))."),
        SchemaField("url", .string, "https:// URL of the emmyops Linux binary that cloud-init installs."),
        SchemaField("sha256", .string, "SHA-256 of that binary; the install fails on a mismatch."),
    ]), "The emmyops release hosts install.")
}

// MARK: - Reading

extension SpecBuilder {
    func release(_ node: CheckedNode?) -> Release {
        var release = Release()
        set(&release.version, R.string(R.value(node, "version")))
        release.url = R.string(R.value(node, "url"))
        release.sha256 = R.string(R.value(node, "sha256"))
        return release
    }
}
