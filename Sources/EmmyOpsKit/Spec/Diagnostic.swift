/// One problem found in a spec or a rendering, pointing at where to fix it.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    public var severity: Severity
    public var location: SourceLocation
    /// The spec key path, such as `alerts.high_error_rate.for`; empty for the whole file.
    public var path: String
    public var message: String
    /// A suggested fix, such as "did you mean `threshold`?".
    public var hint: String?

    public init(_ severity: Severity, at location: SourceLocation, path: String, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        self.path = path
        self.message = message
        self.hint = hint
    }

    /// `file:line:col: error: path: message; hint`
    public var description: String {
        var text = "\(location): \(severity.rawValue): "
        if !path.isEmpty { text += "\(path): " }
        text += message
        if let hint { text += "; \(hint)" }
        return text
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}

/// Errors the spec layer throws.
public enum SpecError: Error, Sendable, CustomStringConvertible {
    /// The spec file could not be read.
    case unreadable(path: String, reason: String)
    /// The spec has errors; every diagnostic found is attached.
    case invalid([Diagnostic])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .invalid(let diagnostics): diagnostics.map(\.description).joined(separator: "\n")
        }
    }
}

/// Suggests the closest known word for a misspelt one.
public enum Suggest {
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lower = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lower, candidate.lowercased())
            let limit = max(1, min(3, candidate.count / 3))
            if distance <= limit, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        if best == nil {
            best = candidates.first { $0.hasPrefix(lower) || lower.hasPrefix($0) }.map { ($0, 0) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
