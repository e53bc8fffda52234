/// A position in a spec file; prints as `file:line:col`, which editors and CI logs make clickable.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Where each key path of a loaded spec was written (`monitoring.prometheus.port` → 12:5).
public struct SourceMap: Sendable {
    public var file: String
    private var locations: [String: SourceLocation] = [:]

    public init(file: String) { self.file = file }

    public mutating func record(_ path: String, _ location: SourceLocation) {
        if locations[path] == nil { locations[path] = location }
    }

    /// Whether the spec wrote `path` itself (not just an ancestor).
    public func isWritten(_ path: String) -> Bool { locations[path] != nil }

    /// The location of `path`, or of its nearest written ancestor, or the top of the file.
    public func location(of path: String) -> SourceLocation {
        var current = Substring(path)
        while true {
            if let found = locations[String(current)] { return found }
            guard let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            current = current[..<cut]
        }
        return locations[""] ?? SourceLocation(file: file, line: 1, column: 1)
    }
}
