import EmmyOpsKit
import Foundation
import Testing

/// The commit and build time `scripts/release.sh` stamps into an artifact with objcopy, read back
/// from the ELF file as `emmyops --version` does.
@Suite struct BuildStampTests {
    @Test func readsTheStampObjcopyAddsAndNothingFromAnUnstampedFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("plain").path
        let stamped = dir.appendingPathComponent("stamped").path
        let stampFile = dir.appendingPathComponent("stamp").path
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: plain)
        try "commit=0123456789ab-dirty\nbuilt=2026-12-01T16:08:00Z\n".write(toFile: stampFile, atomically: true, encoding: .utf8)
        // The same objcopy arguments as scripts/release.sh.
        let objcopy = try ProcessRunner().run(ProcessRunner.which("objcopy") ?? "/usr/bin/objcopy", ["--add-section", "\(BuildStamp.sectionName)=\(stampFile)",
                                                           "--set-section-flags", "\(BuildStamp.sectionName)=readonly", plain, stamped])
        #expect(objcopy.status == 0, "\(objcopy.stderr)")
        #expect(BuildStamp.read(executable: stamped) == BuildStamp(commit: "0123456789ab-dirty", built: "2026-12-01T16:08:00Z"))
        #expect(BuildStamp.read(executable: plain) == nil)
        #expect(BuildStamp.read(executable: stampFile) == nil, "not an ELF file")
        #expect(BuildStamp.read(executable: dir.appendingPathComponent("missing").path) == nil)
    }

    @Test func aDevelopmentBuildSaysItIsNotStamped() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let version = try CLI.run(["--version"], in: dir)
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("0.1.0 (development build"), "\(version.stdout)")
    }
}
