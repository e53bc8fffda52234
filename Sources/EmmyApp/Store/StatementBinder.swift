import GRDB
import GRDBSQLite

/// Binds and steps a prepared statement through the SQLite C API, for the insert of a batch's
/// messages: the one binding GRDB's `StatementArguments` cannot express is a pointer
/// (`sqlite3_bind_pointer`, for `emmy_message_rows`). Bindings that do not change between
/// executions are bound once; `step()` keeps them.
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

    /// Binds a pointer only a virtual table that asks for `type` can read; SQL sees NULL.
    /// It must stay valid until the next `step()` has returned.
    func bind<Pointee>(_ index: Int32, pointer: UnsafeMutablePointer<Pointee>, type: UnsafePointer<CChar>) {
        _ = sqlite3_bind_pointer(statement, index, UnsafeMutableRawPointer(pointer), type, nil)
    }

    func bind(_ index: Int32, _ value: Double) {
        _ = sqlite3_bind_double(statement, index, value)
    }

    /// Runs the statement once and readies it for the next execution's bindings.
    func step() throws {
        let code = withExtendedLifetime(owner) { sqlite3_step(statement) }
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    /// `SQLITE_TRANSIENT`, a C macro Swift does not import.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
