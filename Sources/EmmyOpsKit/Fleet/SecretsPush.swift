import EmmyApp
import Foundation

/// The `${NAME}` secrets a spec references, by who reads them on a host.
public struct SecretReferences: Sendable, Hashable {
    /// Read by EmmyApp from its environment: `<root>/shared/secrets.env` on app hosts.
    public var app: [String]
    /// Read by Alertmanager from `<monitoring.alertmanager.secrets_dir>/NAME` (`*_file`) on monitoring hosts.
    public var alertmanager: [String]

    public init(app: [String], alertmanager: [String]) {
        self.app = app
        self.alertmanager = alertmanager
    }

    public init(_ spec: Spec) {
        var app = Set(spec.app.secrets)
        for value in spec.app.env.values { if case .secret(let name) = value { app.insert(name) } }
        let sending = spec.app.sending
        let provider: [ConfigValue] = switch spec.app.provider {
        case .twilio: [sending.twilio.accountSID, sending.twilio.authToken]
        case .webhook: [sending.webhook.secret]
        case .log: []
        }
        for case .secret(let name) in provider { app.insert(name) }
        var alertmanager = Set<String>()
        for receiver in spec.notify.receivers {
            let values: [ConfigValue?] = [receiver.slack?.webhookURL, receiver.email?.authPassword, receiver.pagerduty?.routingKey]
            for case .secret(let name)? in values { alertmanager.insert(name) }
        }
        self.init(app: app.sorted(), alertmanager: alertmanager.sorted())
    }

    public var all: [String] { Array(Set(app + alertmanager)).sorted() }

    /// The names a host needs, by its roles.
    public func names(for host: Host) -> [String] {
        Array(Set((host.roles.contains(.app) ? app : []) + (host.roles.contains(.monitoring) ? alertmanager : []))).sorted()
    }
}

/// Secret values read on the operator's machine: from its environment or a `KEY=VALUE` file.
public struct SecretValues: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// A dotenv-style file: `KEY=VALUE` lines, `export ` allowed, `#` comments and blank lines
    /// skipped, one pair of surrounding quotes removed. A malformed line is an error naming its
    /// line number (never its text, which may hold a secret).
    public static func parse(envFile text: String, path: String) throws -> SecretValues {
        var values: [String: String] = [:]
        // "\r\n" is one Character in Swift: split on it too, or a CRLF file would read as one line.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            var line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            line = line.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).drop(while: { $0 == " " }) }
            guard let equals = line.firstIndex(of: "="),
                  let name = ConfigValue.secretName(in: "${\(line[..<equals].trimmingCharacters(in: .whitespaces))}") else {
                throw DeployError.invalid("\(path):\(index + 1): not a KEY=VALUE line")
            }
            var value = line[line.index(after: equals)...]
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            values[name] = String(value)
        }
        return SecretValues(values)
    }

    /// The values of `names`; every missing or empty one is named in one error (values never are).
    public func pick(_ names: [String], source: String) throws -> [String: String] {
        let missing = names.filter { (values[$0] ?? "").isEmpty }
        if !missing.isEmpty {
            throw DeployError.invalid("\(source) has no value for \(missing.joined(separator: ", ")); the spec references \(missing.count == 1 ? "it" : "them")")
        }
        // secrets.env and the *_file files are read line by line or whole: a newline or NUL
        // would cut the value or smuggle in another variable.
        if let bad = names.first(where: { values[$0]!.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) }) {
            throw DeployError.invalid("the value of \(bad) holds a line break or NUL, which secrets.env cannot carry")
        }
        return Dictionary(uniqueKeysWithValues: names.map { ($0, values[$0]!) })
    }
}

/// `emmyops secrets push`: writes each host the secrets its roles read, mode 0600, through
/// files streamed to the remote command's input, so a value is never in an argv (visible in
/// `ps` on either machine), never printed and never in the audit log, which names keys only.
public struct SecretsPush: Sendable {
    public var spec: Spec
    public var references: SecretReferences
    public var values: [String: String]
    public var who: String

    public init(spec: Spec, values: SecretValues, source: String, who: String) throws {
        self.spec = spec
        references = SecretReferences(spec)
        self.values = try values.pick(references.all, source: source)
        self.who = who
    }

    /// The remote command that installs its standard input as `$1` with mode 0600, atomically.
    /// The file takes the owner of its folder where the user may chown (root writing into a
    /// folder the service user owns, e.g. Alertmanager's), so the service can read it.
    public static func installCommand(_ path: String) -> [String] {
        let script = #"d=$(dirname -- "$1"); t="$1.emmyops-tmp"; umask 077; mkdir -p -- "$d" && cat > "$t" && "#
            + #"{ chown --reference="$d" -- "$t" 2>/dev/null || true; } && chmod 0600 -- "$t" && mv -f -- "$t" "$1""#
        return ["sh", "-c", script, "emmyops-secret", path]
    }

    /// Appends its standard input (one audit line) to `$1`.
    public static func appendCommand(_ path: String) -> [String] {
        ["sh", "-c", #"mkdir -p -- "$(dirname -- "$1")" && cat >> "$1""#, "emmyops-audit", path]
    }

    /// `secrets.env`: `KEY=VALUE` lines, as `host activate` reads them into the release's environment.
    public func appEnvironmentFile() -> String {
        references.app.map { "\($0)=\(values[$0]!)\n" }.joined()
    }

    /// Writes `target`'s secrets and its audit line; returns the names written.
    public func push(to target: DeployTarget, runner: any CommandRunner, now: Date = Date()) throws -> [String] {
        let started = Date()
        var files: [(path: String, content: String)] = []
        if target.host.roles.contains(.app) { files.append((path: target.layout.secrets, content: appEnvironmentFile())) }
        if target.host.roles.contains(.monitoring) {
            let dir = spec.monitoring.alertmanager.secretsDir
            files += references.alertmanager.map { (path: dir + "/" + $0, content: values[$0]!) }
        }
        for file in files { try send(file.content, with: Self.installCommand(file.path), runner: runner) }
        let keys = references.names(for: target.host)
        let entry = AuditEntry(who: who, when: now, host: target.host.name, from: nil, to: "secrets", action: "secrets", result: "ok",
                               durationS: Date().timeIntervalSince(started), keys: keys)
        try send(String(decoding: try AuditLog.encode(entry), as: UTF8.self), with: Self.appendCommand(target.layout.audit), runner: runner)
        return keys
    }

    /// Streams `content` to `argv` on the host through a private temporary file.
    private func send(_ content: String, with argv: [String], runner: any CommandRunner) throws {
        // Created 0600 by open(2) itself: no moment when another local user could read it.
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-secret-\(UUID().uuidString)").path
        let fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DeployError.unreadable(path: local, reason: "cannot create a private temporary file") }
        let bytes = Array(content.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else {
            unlink(local)
            throw DeployError.unreadable(path: local, reason: "cannot write a private temporary file")
        }
        defer { try? FileManager.default.removeItem(atPath: local) }
        let result = try runner.run(argv, stdinFile: local, timeout: 60)
        guard result.status == 0 else {
            throw RemoteError.failed(host: runner.target, command: "write \(argv.last ?? "")", status: result.status, stderr: result.stderr)
        }
    }
}
