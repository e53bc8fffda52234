import Foundation

/// Uploads between preview and send: the spooled CSV kept as `drafts/ID.csv` with the form's
/// options in `drafts/ID.json`, so the file is uploaded once even without JavaScript. A draft
/// expires after an hour; sending or a later preview removes it. Drafts are bounded in number
/// and bytes for all clients together: each is an upload of up to `limits.uploadBytes` kept for
/// an hour, so without a bound repeated previews could fill the disk.
struct DraftStore: Sendable {
    let directory: URL
    let maxCount: Int
    let maxBytes: Int64
    static let lifetime: TimeInterval = 3600

    struct Draft: Codable, Sendable {
        var message: String
        var region: String
        var phoneColumn: String
        var created: Date
        /// The uploaded file's name, for the batch it becomes (absent in older drafts).
        var fileName: String?
    }

    init(dataDirectory: String, maxCount: Int = 50, maxBytes: Int64 = 1 << 30) {
        directory = URL(fileURLWithPath: dataDirectory).appendingPathComponent("uploads/drafts")
        self.maxCount = maxCount
        self.maxBytes = maxBytes
    }

    /// Refuses (429 `drafts_full`) when `adding` more bytes would pass either bound, after
    /// expired drafts are swept. Checked before an upload is received and again before it is kept.
    func ensureRoom(adding bytes: Int64, now: Date = Date()) throws {
        sweep(now: now)
        let kept = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey]))?
            .filter { $0.pathExtension == "csv" } ?? []
        let used = kept.reduce(Int64(0)) { $0 + Int64((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
        guard kept.count + 1 > maxCount || used + bytes > maxBytes else { return }
        let oldest = kept.compactMap { try? $0.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate }.min() ?? now
        var error = APIError(.tooManyRequests, code: "drafts_full",
                             "\(kept.count) previews (\(used / 1_048_576) MiB) are waiting to be sent, the most kept at once; send one or try again when they expire")
        error.headers[.retryAfter] = "\(max(1, Int(Self.lifetime - now.timeIntervalSince(oldest))))"
        throw error
    }

    /// Only ids this store made (UUIDs) name files: nothing else reaches the file system.
    func csvURL(_ id: String) -> URL? {
        guard let uuid = UUID(uuidString: id) else { return nil }
        return directory.appendingPathComponent(uuid.uuidString.lowercased() + ".csv")
    }

    private func optionsURL(_ id: String) -> URL? {
        csvURL(id)?.deletingPathExtension().appendingPathExtension("json")
    }

    /// Takes over `file` (moved, not copied) and returns the new draft's id.
    func create(from file: URL, draft: Draft) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let size = (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize).map(Int64.init) ?? 0
        try ensureRoom(adding: size, now: draft.created)
        let id = UUID().uuidString.lowercased()
        try FileManager.default.moveItem(at: file, to: csvURL(id)!)
        try save(id, draft)
        return id
    }

    func save(_ id: String, _ draft: Draft) throws {
        guard let url = optionsURL(id) else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        try encoder.encode(draft).write(to: url, options: .atomic)
    }

    /// The draft and its CSV, or nil when the id is unknown or expired.
    func load(_ id: String, now: Date = Date()) -> (draft: Draft, csv: URL)? {
        guard let csv = csvURL(id), let url = optionsURL(id), let data = try? Data(contentsOf: url) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let draft = try? decoder.decode(Draft.self, from: data), now.timeIntervalSince(draft.created) < Self.lifetime,
              FileManager.default.fileExists(atPath: csv.path) else { return nil }
        return (draft, csv)
    }

    /// Takes the draft for sending: its CSV is renamed away (atomically), so a second claim
    /// of the same id finds nothing. The caller deletes the returned file.
    func claim(_ id: String, now: Date = Date()) -> (draft: Draft, csv: URL)? {
        guard let (draft, csv) = load(id, now: now) else { return nil }
        let claimed = csv.appendingPathExtension("sending")
        guard (try? FileManager.default.moveItem(at: csv, to: claimed)) != nil else { return nil }
        if let options = optionsURL(id) { try? FileManager.default.removeItem(at: options) }
        return (draft, claimed)
    }

    func remove(_ id: String) {
        guard let csv = csvURL(id), let options = optionsURL(id) else { return }
        try? FileManager.default.removeItem(at: csv)
        try? FileManager.default.removeItem(at: options)
    }

    /// Deletes drafts older than the lifetime, and CSVs a crash left without their options.
    func sweep(now: Date) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            if load(id, now: now) == nil { remove(id) }
        }
        for name in names where name.hasSuffix(".csv") && !names.contains(String(name.dropLast(4)) + ".json") {
            let url = directory.appendingPathComponent(name)
            let modified = (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? now
            if now.timeIntervalSince(modified) >= Self.lifetime { try? FileManager.default.removeItem(at: url) }
        }
    }
}
