// swift-tools-version: 6.0
// RecKit: train, evaluate and serve recommender systems in Swift.
import PackageDescription

let package = Package(
    name: "RecKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "RecKit", targets: ["RecKit"]),
        .executable(name: "reckit", targets: ["reckit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "RecKitTensor",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux]))]
        ),
        .target(
            name: "RecKitData",
            dependencies: [
                "RecKitTensor", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .target(name: "RecKitNN", dependencies: ["RecKitTensor"]),
        .target(name: "RecKitModels", dependencies: ["RecKitTensor", "RecKitData", "RecKitNN"]),
        .target(name: "RecKitEval", dependencies: ["RecKitTensor", "RecKitData", "RecKitModels"]),
        .target(
            name: "RecKit", dependencies: ["RecKitTensor", "RecKitData", "RecKitNN", "RecKitModels", "RecKitEval"]),
        // The HTTP server (`reckit serve`): API, web page, event store, hot reload, metrics.
        .target(
            name: "RecKitServe",
            dependencies: [
                "RecKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "reckit",
            dependencies: [
                "RecKit", "RecKitServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Benchmarks: `swift run -c release reckit-bench --help`. In this package (not a separate one)
        // so that a clone under any folder name builds it; never run by `swift test`.
        .executableTarget(
            name: "reckit-bench",
            dependencies: [
                "RecKit",
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "_RecKitTestSupport",
            dependencies: ["RecKit"],
            path: "Tests/_RecKitTestSupport"
        ),
        .testTarget(name: "RecKitTensorTests", dependencies: ["RecKitTensor", "_RecKitTestSupport"]),
        .testTarget(name: "RecKitDataTests", dependencies: ["RecKitData", "RecKitTensor", "_RecKitTestSupport"]),
        .testTarget(name: "RecKitNNTests", dependencies: ["RecKitNN", "_RecKitTestSupport"]),
        .testTarget(
            name: "RecKitModelsTests", dependencies: ["RecKitModels", "RecKitNN", "RecKitEval", "_RecKitTestSupport"]),
        .testTarget(name: "RecKitEvalTests", dependencies: ["RecKitEval", "_RecKitTestSupport"]),
        .testTarget(name: "RecKitTests", dependencies: ["RecKit", "_RecKitTestSupport"]),
        .testTarget(name: "reckitTests", dependencies: ["reckit", "_RecKitTestSupport"]),
        .testTarget(
            name: "RecKitServeTests",
            dependencies: [
                "RecKitServe", "_RecKitTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
