import Foundation

/// The one place renderings touch disk: writes them, or compares them with what is there.
///
/// A manifest (`.emmyops-manifest`) lists every file emmyops wrote into the folder, so a file
/// the spec no longer renders (an alert group disabled, say) is removed instead of lingering
/// where Prometheus would still load it; files emmyops never wrote are never touched.
public struct RenderWriter: Sendable {
    public static let manifestName = ".emmyops-manifest"
    public let root: URL

    public init(root: URL) { self.root = root }

    /// A file that differs from the rendering: changed, missing, or stale.
    public struct Difference: Sendable {
        public var path: String
        public var diff: String
    }

    /// What one `write` did.
    public struct Outcome: Sendable {
        public var changed: [String] = []
        public var removed: [String] = []
    }

    /// Writes every file atomically and removes stale files under `owned` folder prefixes.
    @discardableResult
    public func write(_ files: [RenderedFile], owned: [String] = []) throws -> Outcome {
        var outcome = Outcome()
        // Paths joined as text, and the bytes on disk compared with the rendering's own: URL
        // appending and a Data copy of every rendering (the first use of each a conformance
        // scan) were 5% of re-rendering unchanged files. (A rendering's path is relative,
        // without `..`: joined as text it names the same file.)
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for file in files {
            let path = base + file.path
            if let current = FileManager.default.contents(atPath: path), Self.holds(current, file.contents) { continue }
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url, options: .atomic)
            outcome.changed.append(file.path)
        }
        let rendered = Set(files.map(\.path))
        let previous = manifest()
        for path in stale(previous, rendered: rendered, owned: owned) {
            try? FileManager.default.removeItem(at: root.appendingPathComponent(path))
            outcome.removed.append(path)
        }
        let kept = previous.filter { path in !owned.contains { path.hasPrefix($0) } }
        let entries = Set(kept).union(rendered).sorted()
        let manifest = entries.joined(separator: "\n") + "\n"
        let manifestPath = base + Self.manifestName
        // Unchanged (a re-render after no edit): no temporary file, no rename.
        if let current = FileManager.default.contents(atPath: manifestPath), Self.holds(current, manifest) { return outcome }
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        return outcome
    }

    /// Compares every file with disk: a unified diff per changed or missing file, and a
    /// removal diff for each stale file emmyops wrote earlier under `owned`.
    public func check(_ files: [RenderedFile], owned: [String] = []) -> [Difference] {
        var differences: [Difference] = files.compactMap { file in
            let url = root.appendingPathComponent(file.path)
            let current = try? String(contentsOf: url, encoding: .utf8)
            if current == file.contents { return nil }
            return Difference(path: file.path, diff: UnifiedDiff.diff(old: current ?? "", new: file.contents,
                                                                      oldLabel: current == nil ? "/dev/null" : url.path, newLabel: url.path + " (rendered)"))
        }
        for path in stale(manifest(), rendered: Set(files.map(\.path)), owned: owned) {
            let url = root.appendingPathComponent(path)
            guard let current = try? String(contentsOf: url, encoding: .utf8) else { continue }
            differences.append(Difference(path: path, diff: UnifiedDiff.diff(old: current, new: "", oldLabel: url.path, newLabel: "/dev/null")))
        }
        return differences
    }

    /// Whether `data` is `text` in UTF-8.
    private static func holds(_ data: Data, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            data.count == utf8.count && data.withUnsafeBytes { bytes in utf8.isEmpty || memcmp(bytes.baseAddress!, utf8.baseAddress!, utf8.count) == 0 }
        }
    }

    private func manifest() -> [String] {
        guard let text = try? String(contentsOf: root.appendingPathComponent(Self.manifestName), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.contains("..") && !$0.hasPrefix("/") }
    }

    private func stale(_ previous: [String], rendered: Set<String>, owned: [String]) -> [String] {
        previous.filter { path in !rendered.contains(path) && owned.contains { path.hasPrefix($0) } }
    }
}
