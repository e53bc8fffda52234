/// Why a backup operation failed. Every case says which backup or file it concerns.
public enum BackupError: Error, CustomStringConvertible, Equatable {
    /// An age recipient or identity that does not decode.
    case badKey(String)
    /// A file that is not age v1, or whose header is damaged.
    case notAgeFile(String)
    /// None of the identities opens the file key of any recipient stanza.
    case noMatchingIdentity
    /// A payload chunk or the header MAC fails authentication: the object was altered or truncated.
    case tampered(String)
    /// zstd refused the stream (corrupt or truncated).
    case compression(String)
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// The database could not be snapshotted or checked.
    case database(String)
    /// The target holds no backup with this id (or no backup at all).
    case notFound(String)
    /// A backup that does not restore to what its manifest describes.
    case verificationFailed(id: String, reason: String)
    /// The target cannot be used (unsupported URL, unreachable, refused).
    case target(String)
    /// `restore` stopped before touching the running database.
    case restoreRefused(String)
    /// The configuration is missing something (recipients, identity, target).
    case configuration(String)

    public var description: String {
        switch self {
        case .badKey(let why): "not an age key: \(why)"
        case .notAgeFile(let why): "not an age v1 file: \(why)"
        case .noMatchingIdentity: "no identity matches any recipient of this backup"
        case .tampered(let why): "the encrypted data fails authentication (\(why)): the object is corrupt or truncated"
        case .compression(let why): "the compressed stream is damaged: \(why)"
        case .io(let path, let reason): "\(path): \(reason)"
        case .database(let why): "database: \(why)"
        case .notFound(let what): "no backup \(what)"
        case .verificationFailed(let id, let reason): "backup \(id) failed verification: \(reason)"
        case .target(let why): "backup target: \(why)"
        case .restoreRefused(let why): "restore refused, the running database is untouched: \(why)"
        case .configuration(let why): why
        }
    }
}
