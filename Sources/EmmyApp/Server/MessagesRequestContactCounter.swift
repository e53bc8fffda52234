/// Counts the contacts of a `POST /messages` body while it streams in, keeping nothing but a
/// few flags, so a body over the contact cap is refused at the first contact past it: neither
/// `MessagesRequestParser` nor the `JSONDecoder` fallback ever builds an oversized list.
///
/// It counts the values of the top-level object's `contacts` array and is exact for valid
/// JSON (an array under an escaped key is counted too, in case the key spells `contacts`).
/// Invalid JSON may be miscounted, which costs nothing: a body it lets through is still
/// parsed, and the parser refuses it; a body it refuses was over the cap or malformed.
struct MessagesRequestContactCounter {
    /// Values seen so far in `contacts` (in every `contacts` array, if the key is repeated).
    private(set) var contacts = 0

    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The string being read at depth 1 (a key, or a value), kept only while it can still
    /// spell `contacts`.
    private var text: [UInt8] = []
    private var textHasEscape = false
    private var textIsContacts = false
    /// After `"contacts":`, waiting for its value.
    private var contactsValueNext = false
    private var inContacts = false
    private var elementNext = false

    private static let key = Array("contacts".utf8)

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { consume(byte) }
    }

    private mutating func consume(_ byte: UInt8) {
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                textHasEscape = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
                // `"contact\u0073"` is `contacts` too: a key with an escape is counted, to be safe.
                if depth == 1 { textIsContacts = textHasEscape || text == Self.key }
            } else if depth == 1, text.count <= Self.key.count {
                text.append(byte)
            }
            return
        }
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D:
            return
        case UInt8(ascii: ":"):
            if depth == 1 { contactsValueNext = textIsContacts }
            return
        case UInt8(ascii: ","):
            if depth == 2, inContacts { elementNext = true }
            return
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth = max(0, depth - 1)
            if depth < 2 { inContacts = false }
            return
        default:
            break
        }
        // The start of a value (or a key).
        if depth == 2, inContacts, elementNext {
            contacts += 1
            elementNext = false
        }
        let opensContacts = depth == 1 && contactsValueNext && byte == UInt8(ascii: "[")
        if depth == 1 { contactsValueNext = false }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            text.removeAll(keepingCapacity: true)
            textHasEscape = false
            textIsContacts = false
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            if opensContacts {
                inContacts = true
                elementNext = true
            }
        default:
            break  // numbers and literals: one value, whatever their length
        }
    }
}
