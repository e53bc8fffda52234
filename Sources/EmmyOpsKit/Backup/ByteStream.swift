import Crypto
import Foundation

/// One stage of a streamed pipeline (compress → encrypt → file): it takes bytes as they come and
/// passes its output on, so memory stays one chunk per stage whatever the database size.
public protocol ByteSink: AnyObject {
    func write(_ bytes: ArraySlice<UInt8>) throws
    /// No more input: flush what is buffered and finish the next stage too.
    func finish() throws
}

/// The end of a pipeline: a file written through a buffer, hashed and counted as it goes.
final class HashingFileSink: ByteSink {
    let path: String
    private let handle: FileHandle
    private var hasher = SHA256()
    private(set) var bytes: Int64 = 0
    private(set) var digest: String?

    /// Creates (or truncates) `path`, owner-only.
    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw BackupError.io(path: path, reason: "cannot create")
        }
        self.handle = handle
    }

    func write(_ bytes: ArraySlice<UInt8>) throws {
        hasher.update(data: bytes)
        self.bytes += Int64(bytes.count)
        do { try handle.write(contentsOf: bytes) } catch { throw BackupError.io(path: path, reason: "\(error)") }
    }

    /// Flushes to stable storage: the file must survive a crash before anything names it.
    func finish() throws {
        do {
            try handle.synchronize()
            try handle.close()
        } catch { throw BackupError.io(path: path, reason: "\(error)") }
        digest = hasher.finalize().hexString
    }
}

/// A sink that only hashes and counts (verify checks the object without keeping it).
final class DigestSink: ByteSink {
    private var hasher = SHA256()
    private(set) var bytes: Int64 = 0
    private(set) var digest: String?
    func write(_ bytes: ArraySlice<UInt8>) throws {
        hasher.update(data: bytes)
        self.bytes += Int64(bytes.count)
    }
    func finish() throws { digest = hasher.finalize().hexString }
}

/// Sends each chunk to several sinks (the object's hash and the decryptor read the same bytes).
final class TeeSink: ByteSink {
    private let sinks: [any ByteSink]
    init(_ sinks: [any ByteSink]) { self.sinks = sinks }
    func write(_ bytes: ArraySlice<UInt8>) throws { for sink in sinks { try sink.write(bytes) } }
    func finish() throws { for sink in sinks { try sink.finish() } }
}

enum FileStream {
    static let chunkSize = 1 << 20

    /// Pushes `path` through `sink` in 1 MiB reads, calling `progress` with the bytes read so far.
    static func pump(_ path: String, into sink: any ByteSink, progress: ((Int64) -> Void)? = nil) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupError.io(path: path, reason: "cannot open") }
        defer { try? handle.close() }
        var done: Int64 = 0
        while true {
            let data: Data
            do { data = try handle.read(upToCount: chunkSize) ?? Data() } catch { throw BackupError.io(path: path, reason: "\(error)") }
            if data.isEmpty { break }
            try sink.write(ArraySlice(data))
            done += Int64(data.count)
            progress?(done)
        }
        try sink.finish()
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

extension Digest {
    var hexString: String { Array(self).hexString }
}
