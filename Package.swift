// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "emmyops",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "emmyops", targets: ["emmyops"]),
        .library(name: "EmmyOpsKit", targets: ["EmmyOpsKit"]),
        .library(name: "EmmyApp", targets: ["EmmyApp"]),
        .library(name: "PhoneNumbers", targets: ["PhoneNumbers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .executableTarget(
            name: "emmyops",
            dependencies: [
                "EmmyOpsKit",
                "EmmyApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "EmmyOpsKit",
            dependencies: [
                "EmmyApp", "Yams",
                .product(name: "Mustache", package: "swift-mustache"),
                // SHA-256 of deploy artifacts; X25519, HKDF, ChaCha20-Poly1305 and HMAC of backups.
                .product(name: "Crypto", package: "swift-crypto"),
                // `incident serve`: the webhook receiver, its SQLite ledger, its outgoing notices;
                // backup snapshots open the app's database on their own connection; backups go to
                // S3 (SigV4 signed by Backup/SigV4Signer.swift).
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                "CZstd",
            ],
            exclude: ["README.md"]
        ),
        // The system libzstd (Debian libzstd-dev), streamed by Backup/Compression.swift.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .target(
            name: "EmmyApp",
            dependencies: [
                "PhoneNumbers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                // The PostgreSQL engine (Store/Postgres), for replicas sharing one database.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            exclude: ["README.md"]
        ),
        // libphonenumber-level validation with generated metadata; depends on nothing.
        .target(
            name: "PhoneNumbers",
            exclude: ["NOTICE-libphonenumber.txt", "README.md"]
        ),
        .testTarget(
            name: "EmmyOpsKitTests",
            dependencies: [
                "EmmyOpsKit", "EmmyApp",
                // The Twilio-compatible test server the sending tests run against.
                .product(name: "Hummingbird", package: "hummingbird"),
                // Backup tests fill and read real EmmyApp databases.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Replica tests start the throw-away PostgreSQL cluster EmmyAppTests' support defines.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            // Golden renderings are compared by path from the source tree, not bundled.
            exclude: ["Golden"],
            resources: [.copy("Fixtures")]
        ),
        // The executable's own reading of its arguments (DirectDispatch against ArgumentParser).
        .testTarget(
            name: "emmyopsTests",
            dependencies: ["emmyops", "EmmyOpsKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "EmmyAppTests",
            dependencies: [
                "EmmyApp", "PhoneNumbers",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                // The throw-away PostgreSQL cluster's tests look at rows directly.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
