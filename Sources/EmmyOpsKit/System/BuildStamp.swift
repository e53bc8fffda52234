import Foundation

/// The commit and build time a release artifact was built from.
///
/// `scripts/release.sh` stamps them after linking, into an ELF section of their own that is not
/// loaded into memory (`objcopy --add-section .emmyops.stamp=FILE`), so stamping needs no
/// rebuild and a development build simply has no stamp. The running binary finds the section by
/// reading its own section headers from `/proc/self/exe`: a few kilobytes, read once.
public struct BuildStamp: Sendable, Equatable {
    /// The ELF section release.sh writes.
    public static let sectionName = ".emmyops.stamp"

    public var commit: String
    public var built: String

    public init(commit: String, built: String) {
        self.commit = commit
        self.built = built
    }

    /// The stamp of the running binary, if it has one.
    public static func current() -> BuildStamp? { read(executable: "/proc/self/exe") }

    /// The stamp in the ELF file at `path`: `key=value` lines with `commit` and `built`.
    public static func read(executable path: String) -> BuildStamp? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let bytes = ELFSections(handle).contents(of: sectionName),
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let commit = fields["commit"], let built = fields["built"] else { return nil }
        return BuildStamp(commit: commit, built: built)
    }
}

/// Just enough of ELF64 (little-endian, as on x86_64 and arm64 Linux) to find a section's bytes
/// by name: the file header points at the section header table, and one section holds the names.
private struct ELFSections {
    let handle: FileHandle

    init(_ handle: FileHandle) { self.handle = handle }

    func contents(of name: String) -> [UInt8]? {
        // e_ident: magic, 64-bit class (2), little-endian (1).
        guard let header = read(at: 0, count: 64), header.count == 64,
              header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else { return nil }
        let tableOffset = integer(header, 0x28, 8)
        let entrySize = integer(header, 0x3A, 2)
        let count = integer(header, 0x3C, 2)
        let namesIndex = integer(header, 0x3E, 2)
        guard entrySize >= 64, count > 0, count < 4096, namesIndex < count,
              let table = read(at: tableOffset, count: entrySize * count), table.count == entrySize * count else { return nil }
        func section(_ index: Int) -> (name: Int, offset: Int, size: Int) {
            let base = index * entrySize
            return (integer(table, base, 4), integer(table, base + 0x18, 8), integer(table, base + 0x20, 8))
        }
        let names = section(namesIndex)
        guard names.size < 1 << 20, let strings = read(at: names.offset, count: names.size) else { return nil }
        let wanted = Array(name.utf8) + [0]
        for index in 0..<count {
            let entry = section(index)
            guard entry.name + wanted.count <= strings.count,
                  strings[entry.name..<entry.name + wanted.count].elementsEqual(wanted) else { continue }
            guard entry.size < 1 << 16 else { return nil }
            return read(at: entry.offset, count: entry.size)
        }
        return nil
    }

    private func read(at offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, (try? handle.seek(toOffset: UInt64(offset))) != nil,
              let data = try? handle.read(upToCount: count) ?? Data() else { return nil }
        return [UInt8](data)
    }

    /// A little-endian unsigned integer of `width` bytes at `offset` (a corrupt 8-byte value may
    /// come out negative, which every caller's range check refuses).
    private func integer(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> Int {
        var value = 0
        for byte in bytes[offset..<offset + width].reversed() { value = value << 8 | Int(byte) }
        return value
    }
}
