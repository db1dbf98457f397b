// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "netplug",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "netplug-host", targets: ["netplug-host"]),
        .library(name: "NetplugServer", targets: ["NetplugServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // jansson, the C JSON library every wire byte goes through.
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        // What Swift's Glibc import hides (_GNU_SOURCE): posix_spawn extras, pipe2, pidfd, wait macros.
        .target(name: "CSpawn"),
        .target(
            name: "NetplugCore",
            dependencies: ["CJansson"]
        ),
        .target(
            name: "NetplugServer",
            dependencies: [
                "NetplugCore", "CSpawn",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .executableTarget(
            name: "netplug-host",
            dependencies: [
                "NetplugServer", "NetplugCore", "CSpawn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The Python module for resident hooks (python/netplug.py), which `init --resident` writes.
            resources: [.embedInCode("netplug.py")]
        ),
        .target(
            name: "SwiftDriverExample",
            dependencies: ["NetplugServer"],
            path: "examples/swift-driver/Sources/SwiftDriverExample"
        ),
        .executableTarget(
            name: "swift-driver",
            dependencies: ["SwiftDriverExample", "NetplugServer"],
            path: "examples/swift-driver/Sources/swift-driver"
        ),
        .testTarget(name: "NetplugCoreTests", dependencies: ["NetplugCore"]),
        .testTarget(
            name: "NetplugServerTests",
            dependencies: ["NetplugServer", "NetplugCore", "CSpawn", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "SwiftDriverExampleTests",
            dependencies: ["SwiftDriverExample", "NetplugServer"],
            path: "examples/swift-driver/Tests/SwiftDriverExampleTests"
        ),
    ]
)
