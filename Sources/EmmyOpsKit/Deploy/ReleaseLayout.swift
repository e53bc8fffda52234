import EmmyApp
import Foundation

/// Where a host keeps its releases:
///
///     <root>/releases/<version>/{emmyops,emmy.yaml}   one folder per release (binary + spec)
///     <root>/releases/<version>.partial/              an upload in progress
///     <root>/current -> releases/<version>            switched by rename
///     <root>/shared/{emmy.sqlite,secrets.env,logs/,run/,nginx/,audit.log,deploy.lock/}
public struct ReleaseLayout: Sendable, Hashable {
    public var root: String

    public init(root: String) { self.root = root }

    public var releases: String { root + "/releases" }
    public var current: String { root + "/current" }
    public var shared: String { root + "/shared" }
    public var logs: String { shared + "/logs" }
    public var run: String { shared + "/run" }
    public var audit: String { shared + "/audit.log" }
    public var secrets: String { shared + "/secrets.env" }
    public var lock: String { shared + "/deploy.lock" }
    /// Which release serves on which slot, written by `host activate`.
    public var active: String { run + "/active.json" }

    public func release(_ version: String) -> String { releases + "/" + version }
    public func partial(_ version: String) -> String { releases + "/" + version + ".partial" }
    public func binary(_ version: String) -> String { release(version) + "/emmyops" }
    public func spec(_ version: String) -> String { release(version) + "/emmy.yaml" }
    public func log(_ version: String) -> String { logs + "/" + version + ".log" }
    /// The release process's state; its `pid` field is the process to SIGTERM.
    public func state(_ version: String) -> String { run + "/" + version + ".json" }
    /// What `emmyops supervise` reports for a release (`emmyops status --state-file …`); in its
    /// own folder so it is never mistaken for a release's run-state file.
    public func supervisorState(_ version: String) -> String { run + "/supervise/" + version + ".json" }

    /// The release name when none is given: the UTC time, e.g. `20261123-070000`.
    public static func defaultVersion(at date: Date = Date()) -> String { DateText.compact(date) }

    /// Versions name folders and appear in argv: letters, digits, `.`, `_`, `-`, not starting with `.` or `-`.
    public static func isValidVersion(_ version: String) -> Bool {
        guard let first = version.first, first != ".", first != "-", version.count <= 128 else { return false }
        return version.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
            && !version.hasSuffix(".partial")
    }

    /// Why a path cannot be used on a host, or nil. Spaces, quotes and `$(...)` are fine (argv
    /// is quoted); control characters are not, because they break line-oriented files and logs.
    public static func unsafePathReason(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "must not contain newlines or other control characters"
        }
        if path.split(separator: "/").contains("..") { return "must not contain `..`" }
        return nil
    }
}

/// One host with every deploy setting resolved (per-host overrides over `deploy:`).
public struct DeployTarget: Sendable, Hashable {
    public var host: Host
    public var layout: ReleaseLayout
    public var httpPort: Int
    public var listenAddress: String
    public var slotPorts: [Int]
    public var nginx: String
    public var nginxPrefix: String
    /// HTTPS, with this host's port and ACME webroot filled in; nil serves plain HTTP.
    public var tls: ProxyTLS?

    public init(host: Host, spec: Spec) {
        self.host = host
        let root = host.root ?? spec.deploy.root
        layout = ReleaseLayout(root: root)
        httpPort = host.httpPort ?? spec.deploy.httpPort
        listenAddress = spec.deploy.listenAddress
        slotPorts = host.slotPorts ?? spec.deploy.slotPorts ?? [spec.app.port, spec.app.port + 1]
        nginx = spec.deploy.nginx
        nginxPrefix = spec.deploy.nginxPrefix ?? root + "/shared/nginx"
        tls = spec.deploy.tls.map { tls in
            var tls = tls
            tls.httpsPort = host.httpsPort ?? tls.httpsPort
            tls.acmeWebroot = tls.acmeWebroot ?? root + "/shared/acme"
            return tls
        }
    }
}
