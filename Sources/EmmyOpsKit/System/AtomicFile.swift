import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so readers see the old or the new content, never half of it.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, mode: Int = 0o644) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// Points `link` at `destination` by renaming a fresh symlink over it.
    public static func symlink(_ link: String, to destination: String) throws {
        let temporary = link + ".tmp-\(getpid())"
        unlink(temporary)
        guard Glibc.symlink(destination, temporary) == 0, rename(temporary, link) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: link])
        }
    }
}
