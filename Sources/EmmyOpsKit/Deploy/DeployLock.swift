import EmmyApp
import Foundation

/// The fleet's deploy lock: a directory on the first app host (`mkdir` is atomic there) with a
/// `holder.json` naming who holds it, since when, and until when.
///
/// One host rather than every host: a single atomic `mkdir` decides, and a killed run leaves
/// one stale lock to take over instead of a partial set on some hosts.
public struct DeployLock: Sendable {
    public struct Holder: Codable, Sendable, Hashable {
        public var id: String
        public var holder: String
        public var started: Date
        public var expires: Date
        /// The machine and process of the run holding the lock, so `lock release` can tell a
        /// live deploy from a dead one. Optional: locks written before they were recorded lack them.
        public var machine: String?
        public var pid: Int32?

        public init(id: String, holder: String, started: Date, expires: Date, machine: String? = nil, pid: Int32? = nil) {
            self.id = id
            self.holder = holder
            self.started = started
            self.expires = expires
            self.machine = machine
            self.pid = pid
        }
    }

    public let runner: any CommandRunner
    public let layout: ReleaseLayout
    public let expiry: TimeInterval

    public init(runner: any CommandRunner, layout: ReleaseLayout, expiry: TimeInterval) {
        self.runner = runner
        self.layout = layout
        self.expiry = expiry
    }

    var holderPath: String { layout.lock + "/holder.json" }

    /// Takes the lock; returns the holder written and a warning when a stale lock was taken over.
    ///
    /// One round trip when the lock is free: the holder is written into a fresh directory that is
    /// then renamed to the lock (a rename onto a non-empty directory fails), so the lock never
    /// exists without its holder and no second run can mistake it for a killed one's.
    public func acquire(holder: String, now: Date = Date()) throws -> (Holder, warning: String?) {
        let mine = Holder(id: UUID().uuidString, holder: holder, started: now, expires: now.addingTimeInterval(expiry),
                          machine: ProcessInfo.processInfo.hostName, pid: getpid())
        let taken = try withHolderFile(mine) { local in
            try runner.run(["sh", "-c", Self.takeScript, "emmyops-lock", layout.shared, layout.lock], stdinFile: local, timeout: 30)
        }
        if taken.status == 0 { return (mine, nil) }
        guard taken.status == Self.held else {
            throw RemoteError.failed(host: runner.target, command: "take lock", status: taken.status, stderr: taken.stderr)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let existing = try? decoder.decode(Holder.self, from: Data(taken.stdout.utf8))
        if let existing, existing.expires > now {
            throw DeployError.locked(holder: existing.holder, expires: DateText.iso8601(existing.expires))
        }
        let warning = existing.map { "taking over the deploy lock of \($0.holder) (started \(DateText.iso8601($0.started)), expired \(DateText.iso8601($0.expires)))" }
            ?? "taking over a deploy lock with no holder (a run was killed while taking it)"
        try write(mine)
        // Two runs taking over the same stale lock: the last writer wins, the other backs off.
        guard try read()?.id == mine.id else { throw DeployError.locked(holder: "another run", expires: "soon") }
        return (mine, warning)
    }

    /// `$1` shared, `$2` the lock; the holder on stdin. Exit 0: taken; exit `held`: held, the holder
    /// (if any) on stdout. The staging directory sits beside the lock (same filesystem).
    static let takeScript = #"mkdir -p -- "$1" && t=$(mktemp -d -- "$2.XXXXXX") && cat > "$t/holder.json" || exit 1; "#
        + #"if mv -T -- "$t" "$2" 2>/dev/null; then exit 0; fi; rm -rf -- "$t"; cat -- "$2/holder.json" 2>/dev/null; exit \#(held)"#
    static let held: Int32 = 3

    /// Removes the lock if it is still `holder`'s (one round trip).
    public func release(_ holder: Holder) throws {
        _ = try check(runner.run(["sh", "-c", #"grep -qF -- "$2" "$1/holder.json" 2>/dev/null || exit 0; rm -rf -- "$1""#,
                                  "emmyops-unlock", layout.lock, holder.id]), "release lock")
    }

    /// Removes the lock whoever holds it (`emmyops lock release`; the caller decides whether it may).
    public func forceRelease() throws {
        _ = try check(runner.run(["rm", "-rf", "--", layout.lock]), "rm")
    }

    /// Whether the lock directory exists (a run killed between `mkdir` and writing its holder leaves one without holder.json).
    public func isHeld() throws -> Bool {
        try runner.run(["test", "-d", layout.lock]).status == 0
    }

    public func read() throws -> Holder? {
        let result = try runner.run(["cat", "--", holderPath])
        guard result.status == 0 else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Holder.self, from: Data(result.stdout.utf8))
    }

    private func write(_ holder: Holder) throws {
        _ = try withHolderFile(holder) { local in
            try check(runner.run(DeployPlan.upload(local, to: holderPath).argv, stdinFile: local, timeout: 30), "write lock")
        }
    }

    /// `holder` as JSON in a local file for the duration of `body`.
    private func withHolderFile<T>(_ holder: Holder, _ body: (String) throws -> T) throws -> T {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("emmyops-lock-\(holder.id).json")
        try encoder.encode(holder).write(to: local)
        defer { try? FileManager.default.removeItem(at: local) }
        return try body(local.path)
    }

    private func check(_ result: CommandResult, _ what: String) throws -> CommandResult {
        guard result.status == 0 else { throw RemoteError.failed(host: runner.target, command: what, status: result.status, stderr: result.stderr) }
        return result
    }
}
