import GRDB
import GRDBSQLite

/// Binds and steps a prepared statement through the SQLite C API, for the one hot loop that
/// inserts a batch's messages: GRDB's `StatementArguments` box every value in an existential
/// array per row, which cost more than SQLite's own work at a million rows. Bindings that do
/// not change between rows are bound once; `step()` keeps them.
struct StatementBinder {
    /// Keeps the GRDB statement (and so the SQLite one it finalizes on deinit) alive.
    private let owner: Statement
    private let statement: SQLiteStatement
    private let connection: SQLiteConnection

    init(_ statement: Statement, in db: Database) {
        self.owner = statement
        self.statement = statement.sqliteStatement
        self.connection = db.sqliteConnection!
    }

    /// SQLite copies the bytes before `bind` returns (SQLITE_TRANSIENT): for values bound once.
    func bind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                if let address = chars.baseAddress {
                    _ = sqlite3_bind_text(statement, index, address, Int32(chars.count), Self.transient)
                } else {
                    // An empty buffer may have no address, and a null pointer would bind NULL.
                    _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
                }
            }
        }
    }

    /// Binds bytes SQLite reads in place (SQLITE_STATIC): no copy and no allocation. They
    /// must stay unchanged until the next `step()` has returned (see `TextArena`).
    func bind(_ index: Int32, inPlace bytes: UnsafeRawBufferPointer) {
        // A zero-length buffer still gets a non-null address from the arena: empty text, not NULL.
        _ = sqlite3_bind_text(statement, index, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), Self.noCopy)
    }

    func bind(_ index: Int32, _ value: Int64) {
        _ = sqlite3_bind_int64(statement, index, value)
    }

    func bind(_ index: Int32, _ value: Int) {
        _ = sqlite3_bind_int64(statement, index, Int64(value))
    }

    func bind(_ index: Int32, _ value: Double) {
        _ = sqlite3_bind_double(statement, index, value)
    }

    /// Runs the statement once and readies it for the next row's bindings.
    func step() throws {
        let code = withExtendedLifetime(owner) { sqlite3_step(statement) }
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    /// `SQLITE_TRANSIENT`, a C macro Swift does not import.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// `SQLITE_STATIC` (a null destructor): SQLite neither copies nor frees the bytes.
    private static let noCopy: sqlite3_destructor_type? = nil
}

/// Holds the text of one statement execution's parameters, so they can be bound in place.
/// SQLite's `SQLITE_TRANSIENT` copies each text into a buffer it allocates and frees again when
/// the parameter is rebound: three allocations per inserted message, with the system
/// allocator's lock, since Debian's SQLite has no lookaside memory. One arena, reused for
/// every execution, replaces them.
final class TextArena {
    private var storage: UnsafeMutableRawBufferPointer
    private var used = 0

    init(capacity: Int = 16 * 1024) {
        storage = .allocate(byteCount: max(capacity, 1), alignment: 1)
    }

    deinit {
        storage.deallocate()
    }

    /// Empties the arena, first making room for `bytes`: call it before binding an execution's
    /// texts, never between binding and stepping (growing moves the bytes already bound).
    func reset(holding bytes: Int) {
        if bytes > storage.count {
            storage.deallocate()
            storage = .allocate(byteCount: max(bytes, 2 * storage.count), alignment: 1)
        }
        used = 0
    }

    /// Copies `text` in; the bytes stay put until the next `reset`.
    func store(_ text: String) -> UnsafeRawBufferPointer {
        var text = text
        return text.withUTF8 { bytes in
            precondition(used + bytes.count <= storage.count, "TextArena.reset was not given room for this text")
            let start = storage.baseAddress! + used
            if let source = bytes.baseAddress { start.copyMemory(from: source, byteCount: bytes.count) }
            used += bytes.count
            return UnsafeRawBufferPointer(start: start, count: bytes.count)
        }
    }
}
