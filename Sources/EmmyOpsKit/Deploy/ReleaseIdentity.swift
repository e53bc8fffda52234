import Foundation

extension ReleaseProcess {
    /// Whether `pid` is still the supervisor of release `version`: alive, and its argv in /proc
    /// is exactly the command line `arguments` spells for that release (the port as recorded,
    /// or any port when the state file predates recording it).
    ///
    /// A run-state file outlives its process: after a reboot, or a supervisor killed long ago,
    /// the pid it names may belong to anything. The argv names this release's binary and state
    /// file, so no other process matches; where /proc cannot be read, nothing is signalled.
    static func isRelease(_ pid: Int32, layout: ReleaseLayout, version: String, port: Int?) -> Bool {
        guard ProcessTable.isAlive(pid), let argv = ProcessTable.arguments(pid) else { return false }
        var expected = arguments(layout: layout, version: version, port: port ?? 0)
        if port == nil, let flag = expected.firstIndex(of: "--port"), flag + 1 < argv.count { expected[flag + 1] = argv[flag + 1] }
        return argv == expected
    }

    /// Stops the release a run-state file names, signalling its pid only while that pid is still
    /// the release (checked before every signal, since the pid is not our child and may be reused
    /// as soon as it exits). True when the release is gone.
    @discardableResult
    public static func stop(_ state: ReleaseState, layout: ReleaseLayout, version: String, grace: TimeInterval) -> Bool {
        stop(pid: state.pid, grace: grace, while: { isRelease($0, layout: layout, version: version, port: state.port) })
    }
}
