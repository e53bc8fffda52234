// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets over the code that reads hostile input. Built by scripts/fuzz.sh with
// `swift build --sanitize=fuzzer --sanitize=address`; see README.md here.
//
// The targets compile the few source files they exercise (symlinks into ../Sources) instead
// of depending on the main package: that would build Hummingbird, NIO, GRDB and swift-crypto
// with the sanitizers too, many minutes more for code no target reaches.
let package = Package(
    name: "emmyops-fuzz",
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // The CSV parser and the table over it, fed in random chunks.
        .executableTarget(name: "FuzzCSV", dependencies: ["EmmyApp"]),
        // The fast /messages reader, checked against JSONDecoder, its fallback.
        .executableTarget(name: "FuzzMessages", dependencies: ["EmmyApp"]),
        // Message templates: parse, then render.
        .executableTarget(name: "FuzzTemplate", dependencies: ["EmmyApp"]),
        // emmy.yaml: the input guard, Yams, the schema checker, the builder and validation.
        .executableTarget(name: "FuzzSpec", dependencies: ["EmmyOpsKit"]),
        // Just the parts of the real modules the targets exercise, under their real names (the
        // spec files `import EmmyApp`), plus FuzzChecks. Coverage is collected from library
        // code only, so the code under test and the checks live here, not in the executables.
        .target(name: "EmmyOpsKit", dependencies: ["EmmyApp", "Yams"]),
        .target(name: "EmmyApp"),
    ],
    swiftLanguageModes: [.v6]
)
