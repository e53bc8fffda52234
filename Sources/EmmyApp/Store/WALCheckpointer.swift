import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log back into the database on a thread of its own, so the single
/// writer never waits for it.
///
/// By default SQLite checkpoints inside the commit that crosses 1,000 WAL pages: the writer
/// copies pages and fsyncs the database file before it can start the next transaction. A big
/// batch's commits dirty index pages all over the file, so that was a third of the writer's
/// time. The writer's WAL hook now only asks for a checkpoint; a second connection runs it in
/// PASSIVE mode, which never blocks the writer or readers (SQLite's documented use of
/// `sqlite3_wal_hook`). If that connection cannot be opened, the hook checkpoints inline, as
/// SQLite would have.
///
/// A writer that begins right after a commit finds part of the log not yet copied and keeps
/// appending, so during a big batch the log only grows. At 64 MiB the writer itself runs a
/// RESTART checkpoint (most pages are copied by then), the next transaction writes from the
/// start of the file, and `journal_size_limit` trims the file afterwards.
final class WALCheckpointer: @unchecked Sendable {
    /// WAL pages after a commit that call for a checkpoint: SQLite's own default.
    static let threshold: Int32 = 1000
    /// Log pages (64 MiB of 4 KiB pages) at which the writer itself restarts the log.
    static let restartPages: Int32 = 16384

    private let path: String
    private let queue = DispatchQueue(label: "emmy.wal-checkpoint", qos: .utility)
    private let requested = Atomic<Bool>(false)
    private let failed = Atomic<Bool>(false)
    /// The checkpointing connection: opened on first use, touched only on `queue` (and deinit).
    private var connection: OpaquePointer?

    init(path: String) {
        self.path = path
    }

    deinit {
        if let connection { sqlite3_close_v2(connection) }
    }

    /// Replaces the writer connection's automatic checkpoints with requests to this one. The
    /// hook holds no reference: call it from the writer's `prepareDatabase`, whose closure
    /// keeps this object alive as long as the connection.
    func install(on db: Database) {
        guard let connection = db.sqliteConnection else { return }
        sqlite3_wal_hook(connection, { context, connection, _, pages in
            guard pages >= WALCheckpointer.threshold, let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
            if pages >= WALCheckpointer.restartPages {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_RESTART, nil, nil)
            } else if !checkpointer.request() {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Schedules a checkpoint unless one is already waiting; false when checkpoints cannot run
    /// on this side (the caller then does it inline). Never blocks the writer.
    private func request() -> Bool {
        if failed.load(ordering: .relaxed) { return false }
        if requested.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            queue.async { self.run() }
        }
        return true
    }

    private func run() {
        requested.store(false, ordering: .releasing)
        if connection == nil {
            guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
                sqlite3_close_v2(connection)
                connection = nil
                failed.store(true, ordering: .relaxed)
                return
            }
            sqlite3_busy_timeout(connection, 5000)
            // A connection learns the database is in WAL mode on its first read; until then a
            // checkpoint request does nothing.
            sqlite3_exec(connection, "SELECT count(*) FROM sqlite_schema", nil, nil, nil)
        }
        // PASSIVE copies what no reader still needs and returns; the next request resumes.
        sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
}
