import Foundation
import Testing

/// EmmyApp's data boundary: SQL and the SQLite engine's types live under `Store/` only, so a
/// second engine behind `AppStore` sees every query the app makes.
@Suite struct StoreBoundaryTests {
    /// SQL statements (upper case, as the code writes them), the SQLite C API and GRDB. Plain
    /// substring checks: a Regex over every line of the module takes seconds in a debug build.
    static func isForbidden(_ line: Substring) -> Bool {
        ["SELECT ", "INSERT INTO", "INSERT OR ", "DELETE FROM", "PRAGMA ", "sqlite3_", "import GRDB"].contains { line.contains($0) }
            || line.contains("UPDATE ") && line.contains(" SET ")
    }

    static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/EmmyApp")
    }

    @Test func noSQLOutsideStore() throws {
        let root = Self.sources.standardizedFileURL.path
        let files = try #require(FileManager.default.enumerator(atPath: root)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50, "found \(files.count) Swift files under \(root); is the path right?")
        #expect(files.contains { $0.hasPrefix("Store/") }, "the store itself is not where the test looks")
        var offenders: [String] = []
        for file in files where !file.hasPrefix("Store/") {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where Self.isForbidden(line) {
                offenders.append("Sources/EmmyApp/\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "SQL outside Store/ (add a call to AppStore instead):\n\(offenders.joined(separator: "\n"))")
    }
}
