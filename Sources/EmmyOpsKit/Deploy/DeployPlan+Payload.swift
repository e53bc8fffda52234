import Crypto
import Foundation

extension DeployPlan.Payload {
    /// The file at `path` with its SHA-256, read in 1 MiB pieces (a release binary is ~100 MiB),
    /// in process: the hosts' `sha256sum` is the check, this is the expectation.
    public init(hashing path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DeployError.unreadable(path: path, reason: "no such file, or not readable")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { hasher.update(data: piece) }
        } catch {
            throw DeployError.unreadable(path: path, reason: error.localizedDescription)
        }
        let hex = hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }
        self.init(path: path, sha256: hex.joined())
    }
}

/// A payload hashed on a thread of its own, so hashing a ~100 MiB artifact (0.1 s on an idle
/// machine, most of a second on a busy one) overlaps taking the deploy lock and the hosts' logins.
public final class PendingPayload: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<DeployPlan.Payload, any Error>?

    /// Fails at once when `path` cannot be read, before anything touches a host.
    public init(hashing path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw DeployError.unreadable(path: path, reason: "no such file, or not readable")
        }
        Thread.detachNewThread { [self] in
            result = Result { try DeployPlan.Payload(hashing: path) }
            done.signal()
        }
    }

    /// The payload, once hashed.
    public func value() throws -> DeployPlan.Payload {
        done.wait()
        defer { done.signal() }
        return try result!.get()
    }
}
