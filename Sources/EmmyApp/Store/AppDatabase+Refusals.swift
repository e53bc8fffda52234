import Foundation
import GRDB

/// The evidence `emmyops incident` reads before it pauses sending, on SQLite: recent attempts
/// the provider refused with given error codes. A function of a connection, not of
/// `AppDatabase`, so a reader in another process can open the file read-only, without running
/// migrations under the app; `AppStore.providerRefusals` is the same count through the store.
public enum ProviderRefusals {
    /// Messages whose last attempt since `since` ended with one of `codes`, counted by code.
    public static func count(codes: [String], since: Date, in db: Database) throws -> [String: Int] {
        guard !codes.isEmpty else { return [:] }
        let marks = codes.map { _ in "?" }.joined(separator: ", ")
        let rows = try Row.fetchAll(db, sql: "SELECT error_code, COUNT(*) AS n FROM message WHERE error_code IN (\(marks)) AND updated_at >= ? GROUP BY error_code",
                                    arguments: StatementArguments(codes) + [since.timeIntervalSince1970])
        return Dictionary(uniqueKeysWithValues: rows.map { (($0["error_code"] as String?) ?? "", $0["n"] as Int) })
    }
}

extension AppDatabase {
    public func providerRefusals(codes: [String], since: Date) async throws -> [String: Int] {
        try await read { db in try ProviderRefusals.count(codes: codes, since: since, in: db) }
    }
}
