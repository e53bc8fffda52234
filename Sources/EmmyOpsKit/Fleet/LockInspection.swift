import EmmyApp
import Foundation

/// What `emmyops lock status` reports for one host's deploy lock.
public struct LockReport: Codable, Sendable, Hashable {
    /// free | held | expired | orphaned (a directory without a holder: a run killed while taking it)
    public var state: String
    public var host: String
    public var holder: String?
    public var started: String?
    public var expires: String?
    public var machine: String?
    public var pid: Int32?
    /// true: the holder's process runs on this machine; false: it is gone; nil: it runs elsewhere, so
    /// it cannot be checked from here.
    public var holderAlive: Bool?

    /// Releasing would cut the floor from under a deploy that may still be running: its process
    /// lives (expired or not), or it runs elsewhere and the lock has not expired.
    public var mayBeInUse: Bool { holderAlive == true || (state == "held" && holderAlive == nil) }

    public var summary: String {
        switch state {
        case "free": return "\(host): free"
        case "orphaned": return "\(host): orphaned (a lock directory without a holder; a run was killed while taking it)"
        default:
            let process = pid.map { " pid \($0)" } ?? ""
            let place = machine.map { " on \($0)\(process)" } ?? ""
            let alive = holderAlive.map { $0 ? ", process alive" : ", process gone" } ?? (machine == nil ? "" : ", process not checkable from here")
            return "\(host): \(state) by \(holder ?? "?")\(place) since \(started ?? "?"), expires \(expires ?? "?")\(alive)"
        }
    }
}

/// `lock status|release`: reads and removes the deploy lock (DeployLock) on a host.
public struct LockInspection: Sendable {
    public let lock: DeployLock
    public let hostName: String

    public init(runner: any CommandRunner, target: DeployTarget) {
        lock = DeployLock(runner: runner, layout: target.layout, expiry: 0)
        hostName = target.host.name
    }

    /// The lock's state; `localMachine` and `isAlive` decide whether a holder's process can be checked.
    public func report(now: Date = Date(), localMachine: String = ProcessInfo.processInfo.hostName,
                       isAlive: (Int32) -> Bool = LockInspection.isDeployProcess) throws -> LockReport {
        guard try lock.isHeld() else { return LockReport(state: "free", host: hostName) }
        guard let holder = try lock.read() else { return LockReport(state: "orphaned", host: hostName) }
        var alive: Bool?
        if let machine = holder.machine, let pid = holder.pid, machine == localMachine { alive = isAlive(pid) }
        return LockReport(state: holder.expires > now ? "held" : "expired", host: hostName, holder: holder.holder,
                          started: DateText.iso8601(holder.started), expires: DateText.iso8601(holder.expires),
                          machine: holder.machine, pid: holder.pid, holderAlive: alive)
    }

    /// Removes the lock; without `force` it refuses while the holder may still be deploying.
    /// Returns the report of what was released (state `free` when there was nothing to release).
    @discardableResult
    public func release(force: Bool, now: Date = Date(), isAlive: (Int32) -> Bool = LockInspection.isDeployProcess) throws -> LockReport {
        let found = try report(now: now, isAlive: isAlive)
        if found.state == "free" { return found }
        if found.mayBeInUse, !force {
            throw DeployError.invalid("\(found.summary)\nrefusing to release a lock whose holder may still be deploying; pass --force if you know it is not")
        }
        try lock.forceRelease()
        return found
    }

    /// A live `emmyops deploy` or `rollback` (a process that reused the pid does not count).
    public static func isDeployProcess(_ pid: Int32) -> Bool {
        ProcessTable.isEmmyOps(pid, "deploy") || ProcessTable.isEmmyOps(pid, "rollback")
    }
}
