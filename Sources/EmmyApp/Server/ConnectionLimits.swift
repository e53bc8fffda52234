import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How long a silent connection is kept and how many are served at once, so idle or
/// half-sent connections can neither pile up nor exhaust the process's file descriptors (at
/// about a thousand the server stopped answering and could die in libdispatch).
public struct ConnectionLimits: Sendable {
    /// A connection that sends nothing for this long is closed. Hummingbird's timer starts at
    /// connect and restarts with each request part read, so it is at once the header timeout
    /// (a head not complete in time), the body-read timeout (a body that stops arriving) and
    /// the keep-alive idle timeout; it never cuts a request whose response is being worked on.
    public var idleTimeout: Duration = .seconds(30)
    /// Connections served at once; more wait in the listen backlog until one closes. Nil
    /// takes it from the descriptor limit (`descriptorBudget`).
    public var maxConnections: Int?

    public init() {}

    /// Descriptors kept back from connections for the database, upload spools, exports and
    /// the provider's outbound connections.
    static let reservedDescriptors = 256
    static let connectionCeiling = 16_384

    /// The connection cap: the configured one, else what the descriptor limit allows.
    func connectionCap(descriptorLimit: Int) -> Int {
        maxConnections ?? min(Self.connectionCeiling, max(64, descriptorLimit - Self.reservedDescriptors))
    }

    /// Raises the soft descriptor limit to the hard one (a systemd unit's `LimitNOFILE`, or a
    /// shell's `ulimit -Hn`) and returns the limit in force. Many systems start processes with
    /// a soft limit of 1024 whatever the hard limit allows.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }
}
