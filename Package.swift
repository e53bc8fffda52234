// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "emmyops",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "emmyops", targets: ["emmyops"]),
        .library(name: "EmmyOpsKit", targets: ["EmmyOpsKit"]),
        .library(name: "EmmyApp", targets: ["EmmyApp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .executableTarget(
            name: "emmyops",
            dependencies: [
                "EmmyOpsKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "EmmyOpsKit",
            dependencies: ["EmmyApp", "Yams", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(name: "EmmyApp"),
        .testTarget(
            name: "EmmyOpsKitTests",
            dependencies: ["EmmyOpsKit", "EmmyApp"],
            // Golden renderings are compared by path from the source tree, not bundled.
            exclude: ["Golden"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "EmmyAppTests", dependencies: ["EmmyApp"]),
    ],
    swiftLanguageModes: [.v6]
)
