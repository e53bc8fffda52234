import GRDB
import GRDBSQLite

/// A transaction's queued messages laid out flat for SQLite to read as a table, so one
/// `INSERT INTO message SELECT … FROM emmy_message_rows(?)` stores them all: SQLite's own bulk
/// path (the sqlite3 shell's `INSERT … SELECT` from a staging table), where a statement per
/// few rows re-binds seven parameters per row and opens and closes a statement journal each
/// time. Measured on 100,000 rows: 0.34 s of writer CPU against 0.43 s for 64-row INSERTs.
///
/// The texts are copied once into one buffer; SQLite reads them in place (SQLITE_STATIC),
/// so they must not move until the statement has finished: `MessageInserter` keeps this
/// object alive across the step.
final class PackedMessages {
    /// One message's numbers and where its texts are in `text`.
    struct Row {
        var position: Int64
        var bodyHash: Int64
        var dedupeKey: Int64
        var segments: Int64
        var phone: Span
        var body: Span
        var encoding: Span
    }

    struct Span {
        var offset: Int
        var count: Int
    }

    /// What the table's cursor reads: raw pointers only, so no reference counting per value.
    struct View {
        var rows: UnsafePointer<Row>?
        var count: Int
        var text: UnsafeRawPointer?
    }

    private let rows: UnsafeMutableBufferPointer<Row>
    private let text: UnsafeMutableRawBufferPointer
    /// The address bound to the statement (`sqlite3_bind_pointer`).
    let view: UnsafeMutablePointer<View>

    init(_ messages: [(ValidatedMessage, DedupeKey)]) {
        let bytes = messages.reduce(0) { $0 + $1.0.phone.utf8.count + $1.0.body.utf8.count + $1.0.encoding.rawValue.utf8.count }
        let rows = UnsafeMutableBufferPointer<Row>.allocate(capacity: max(messages.count, 1))
        // At least one byte, so an empty text still has an address (empty text, not NULL).
        let text = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 1)
        var used = 0
        func store(_ string: String) -> Span {
            var string = string
            return string.withUTF8 { utf8 in
                if let source = utf8.baseAddress { (text.baseAddress! + used).copyMemory(from: source, byteCount: utf8.count) }
                defer { used += utf8.count }
                return Span(offset: used, count: utf8.count)
            }
        }
        for (index, (message, key)) in messages.enumerated() {
            (rows.baseAddress! + index).initialize(to: Row(position: Int64(message.position), bodyHash: message.bodyHash, dedupeKey: key.value,
                                                           segments: Int64(message.segments), phone: store(message.phone),
                                                           body: store(message.body), encoding: store(message.encoding.rawValue)))
        }
        self.rows = rows
        self.text = text
        view = .allocate(capacity: 1)
        view.initialize(to: View(rows: UnsafePointer(rows.baseAddress), count: messages.count, text: UnsafeRawPointer(text.baseAddress)))
    }

    deinit {
        rows.deallocate()
        text.deallocate()
        view.deallocate()
    }
}

/// `emmy_message_rows(?)`: an eponymous-only virtual table whose one argument is a
/// `PackedMessages.View` bound with `sqlite3_bind_pointer`. SQL text cannot forge such a
/// pointer (it is typed by `pointerType` and only a bound parameter carries one), so the table
/// read from anywhere else is empty. Registered on the writer connection only.
enum MessageRowsTable {
    static let name = "emmy_message_rows"
    /// The pointer type SQLite compares on `sqlite3_value_pointer`; static, as it requires.
    nonisolated(unsafe) static let pointerType = UnsafeRawPointer(("emmy.PackedMessages.View" as StaticString).utf8Start)
        .assumingMemoryBound(to: CChar.self)

    /// Columns in declaration order; the hidden one carries the argument.
    private static let schema = "CREATE TABLE x(row INTEGER, phone TEXT, body TEXT, body_hash INTEGER, dedupe_key INTEGER, encoding TEXT, segments INTEGER, packed HIDDEN)"
    private static let argumentColumn: Int32 = 7

    static func register(on db: Database) throws {
        guard let connection = db.sqliteConnection else { return }
        let code = sqlite3_create_module_v2(connection, name, module, nil, nil)
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register \(name): \(String(cString: sqlite3_errmsg(connection)))")
        }
    }

    /// A cursor is SQLite's cursor header followed by this state, in one allocation.
    private struct CursorState {
        var view: PackedMessages.View
        var index: Int
    }

    private static let stateOffset = MemoryLayout<sqlite3_vtab_cursor>.stride
    private static func state(_ cursor: UnsafeMutablePointer<sqlite3_vtab_cursor>) -> UnsafeMutablePointer<CursorState> {
        (UnsafeMutableRawPointer(cursor) + stateOffset).assumingMemoryBound(to: CursorState.self)
    }

    private static func text(_ context: OpaquePointer?, _ span: PackedMessages.Span, in view: PackedMessages.View) {
        let start = view.text!.advanced(by: span.offset).assumingMemoryBound(to: CChar.self)
        sqlite3_result_text(context, start, Int32(span.count), nil)  // SQLITE_STATIC: read in place
    }

    private nonisolated(unsafe) static let module: UnsafeMutablePointer<sqlite3_module> = {
        var module = sqlite3_module()
        // xCreate stays nil: eponymous-only, usable as a table-valued function, never CREATE VIRTUAL TABLE.
        module.xConnect = { db, _, _, _, table, _ in
            let code = sqlite3_declare_vtab(db, MessageRowsTable.schema)
            guard code == SQLITE_OK else { return code }
            guard let memory = sqlite3_malloc(Int32(MemoryLayout<sqlite3_vtab>.stride)) else { return SQLITE_NOMEM }
            let vtab = memory.bindMemory(to: sqlite3_vtab.self, capacity: 1)
            vtab.initialize(to: sqlite3_vtab())
            table?.pointee = vtab
            return SQLITE_OK
        }
        module.xDisconnect = { table in
            sqlite3_free(table)
            return SQLITE_OK
        }
        module.xBestIndex = { _, info in
            guard let info else { return SQLITE_ERROR }
            for index in 0..<Int(info.pointee.nConstraint) {
                let constraint = info.pointee.aConstraint[index]
                if constraint.iColumn == MessageRowsTable.argumentColumn, constraint.op == UInt8(SQLITE_INDEX_CONSTRAINT_EQ), constraint.usable != 0 {
                    info.pointee.aConstraintUsage[index].argvIndex = 1
                    info.pointee.aConstraintUsage[index].omit = 1
                    info.pointee.estimatedCost = 1
                    return SQLITE_OK
                }
            }
            // Without its argument the table is not readable: refuse that plan.
            return SQLITE_CONSTRAINT
        }
        module.xOpen = { _, cursor in
            let size = MessageRowsTable.stateOffset + MemoryLayout<CursorState>.stride
            guard let memory = sqlite3_malloc(Int32(size)) else { return SQLITE_NOMEM }
            let header = memory.bindMemory(to: sqlite3_vtab_cursor.self, capacity: 1)
            header.initialize(to: sqlite3_vtab_cursor())
            MessageRowsTable.state(header).initialize(to: CursorState(view: PackedMessages.View(rows: nil, count: 0, text: nil), index: 0))
            cursor?.pointee = header
            return SQLITE_OK
        }
        module.xClose = { cursor in
            sqlite3_free(cursor)
            return SQLITE_OK
        }
        module.xFilter = { cursor, _, _, argc, argv in
            let state = MessageRowsTable.state(cursor!)
            var view = PackedMessages.View(rows: nil, count: 0, text: nil)
            if argc >= 1, let pointer = sqlite3_value_pointer(argv![0], MessageRowsTable.pointerType) {
                view = pointer.assumingMemoryBound(to: PackedMessages.View.self).pointee
            }
            state.pointee = CursorState(view: view, index: 0)
            return SQLITE_OK
        }
        module.xNext = { cursor in
            MessageRowsTable.state(cursor!).pointee.index += 1
            return SQLITE_OK
        }
        module.xEof = { cursor in
            let state = MessageRowsTable.state(cursor!).pointee
            return state.index >= state.view.count ? 1 : 0
        }
        module.xColumn = { cursor, context, column in
            let state = MessageRowsTable.state(cursor!).pointee
            let row = state.view.rows![state.index]
            switch column {
            case 0: sqlite3_result_int64(context, row.position)
            case 1: MessageRowsTable.text(context, row.phone, in: state.view)
            case 2: MessageRowsTable.text(context, row.body, in: state.view)
            case 3: sqlite3_result_int64(context, row.bodyHash)
            case 4: sqlite3_result_int64(context, row.dedupeKey)
            case 5: MessageRowsTable.text(context, row.encoding, in: state.view)
            case 6: sqlite3_result_int64(context, row.segments)
            default: sqlite3_result_null(context)
            }
            return SQLITE_OK
        }
        module.xRowid = { cursor, rowid in
            rowid?.pointee = sqlite3_int64(MessageRowsTable.state(cursor!).pointee.index)
            return SQLITE_OK
        }
        let pointer = UnsafeMutablePointer<sqlite3_module>.allocate(capacity: 1)
        pointer.initialize(to: module)
        return pointer
    }()
}
