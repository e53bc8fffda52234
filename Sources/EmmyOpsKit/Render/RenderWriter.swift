import Foundation

/// The one place renderings touch disk: writes them, or compares them with what is there.
public struct RenderWriter: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// A file whose contents on disk differ from the rendering (or is missing).
    public struct Difference: Sendable {
        public var path: String
        public var diff: String
    }

    /// Writes every file atomically; returns the paths that changed.
    @discardableResult
    public func write(_ files: [RenderedFile]) throws -> [String] {
        var changed: [String] = []
        for file in files {
            let url = root.appendingPathComponent(file.path)
            let data = Data(file.contents.utf8)
            if (try? Data(contentsOf: url)) == data { continue }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
            changed.append(file.path)
        }
        return changed
    }

    /// Compares every file with disk; a unified diff per file that differs.
    public func check(_ files: [RenderedFile]) -> [Difference] {
        files.compactMap { file in
            let url = root.appendingPathComponent(file.path)
            let current = (try? String(contentsOf: url, encoding: .utf8))
            if current == file.contents { return nil }
            let label = root.appendingPathComponent(file.path).path
            return Difference(path: file.path, diff: UnifiedDiff.diff(old: current ?? "", new: file.contents,
                                                                      oldLabel: current == nil ? "/dev/null" : label, newLabel: label + " (rendered)"))
        }
    }
}
