import Foundation
import GRDB

extension AppDatabase {
    /// The upload's file name on its batch: people know a batch by the file they sent, not by
    /// its UUID. NULL for JSON batches and for batches stored before this column existed.
    static func registerBatchFileNameMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("2026-12-01 batch file name") { db in
            try db.execute(sql: "ALTER TABLE batch ADD COLUMN file_name TEXT")
        }
    }
}

extension NewBatch {
    /// A client's file name as it may be stored and shown: its last path component (some
    /// browsers send the whole path), without control characters, at most 255 characters;
    /// nil when nothing is left.
    static func cleanFileName(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(String.UnicodeScalarView(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }))
            .trimmingCharacters(in: .whitespaces)
        return clean.isEmpty ? nil : String(clean.prefix(255))
    }
}
