// swift-tools-version:6.0
import PackageDescription

/// System libraries come from Debian's -dev packages, found through pkg-config.
func systemLibrary(_ name: String, pkgConfig: String, apt: [String]) -> Target {
    .systemLibrary(
        name: name,
        path: "Sources/CSystem/\(name)",
        pkgConfig: pkgConfig,
        providers: [.apt(apt)]
    )
}

let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "recorder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "recorder", targets: ["recorder"]),
        .executable(name: "recorderd", targets: ["recorderd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        systemLibrary("CX11", pkgConfig: "x11", apt: ["libx11-dev", "libxext-dev", "libxfixes-dev", "libxrandr-dev"]),
        systemLibrary("CEvdev", pkgConfig: "libevdev", apt: ["libevdev-dev"]),
        systemLibrary("CHDF5", pkgConfig: "hdf5", apt: ["libhdf5-dev"]),
        systemLibrary("CZstd", pkgConfig: "libzstd", apt: ["libzstd-dev"]),
        systemLibrary("CLZ4", pkgConfig: "liblz4", apt: ["liblz4-dev"]),
        systemLibrary("CPNG", pkgConfig: "libpng", apt: ["libpng-dev"]),
        // C shims, one per wrapped library; each depends only on what it wraps.
        .target(
            name: "CX11Shim",
            dependencies: ["CX11"],
            // pkg-config's x11 names only libX11; the extensions the shims call need their own libraries.
            linkerSettings: [.linkedLibrary("Xext"), .linkedLibrary("Xfixes"), .linkedLibrary("Xrandr")]
        ),
        .target(name: "CLinuxShim"),
        .target(name: "CHDF5Shim", dependencies: ["CHDF5", "CChunkCodec"]),
        .target(name: "CChunkCodec", dependencies: ["CZstd", "CLZ4"], cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CFrameKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CPNGShim", dependencies: ["CPNG"]),
        .target(
            name: "RecorderCore",
            dependencies: [
                "CLinuxShim",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .target(name: "X11Support", dependencies: ["RecorderCore", "CX11", "CX11Shim"], swiftSettings: strictSwift),
        .target(
            name: "Capture",
            dependencies: ["RecorderCore", "X11Support", "CX11", "CX11Shim", "CLinuxShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .target(name: "InputMonitor", dependencies: ["RecorderCore", "CEvdev", "CLinuxShim", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .target(
            name: "StateExtractor",
            dependencies: [
                "RecorderCore", "X11Support", "CX11Shim", "CPNGShim",
                .product(name: "Logging", package: "swift-log"), .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "FrameCodec",
            dependencies: ["RecorderCore", "CFrameKernels", "CChunkCodec", "CLinuxShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .target(
            name: "HDF5Store",
            dependencies: ["RecorderCore", "FrameCodec", "CHDF5Shim", "CLinuxShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .executableTarget(name: "storage-bench", dependencies: ["HDF5Store", "FrameCodec", "RecorderCore", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .target(
            name: "Recording",
            dependencies: ["RecorderCore", "Capture", "InputMonitor", "StateExtractor", "HDF5Store", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DaemonControl",
            dependencies: [
                "RecorderCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "recorderd",
            dependencies: [
                "Recording", "DaemonControl", "HDF5Store", "RecorderCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "recorder",
            dependencies: [
                "Recording", "DaemonControl", "HDF5Store", "RecorderCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "input-bench", dependencies: ["InputMonitor", "RecorderCore", .product(name: "Logging", package: "swift-log")], path: "Sources/input-bench", swiftSettings: strictSwift),
        .executableTarget(
            name: "capture-bench",
            dependencies: ["Capture", "RecorderCore", "X11Support", "CX11", "CX11Shim", "CLinuxShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .target(name: "TestSupport", dependencies: ["RecorderCore", "X11Support", "CX11Shim"], path: "Tests/TestSupport", swiftSettings: strictSwift),
        .testTarget(name: "RecorderCoreTests", dependencies: ["RecorderCore"], swiftSettings: strictSwift),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "CX11Shim", "RecorderCore", "TestSupport", "X11Support", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .testTarget(name: "InputMonitorTests", dependencies: ["InputMonitor", "RecorderCore", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .testTarget(name: "StateExtractorTests", dependencies: ["StateExtractor", "CX11", "CX11Shim", "RecorderCore", "TestSupport", "X11Support", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .testTarget(name: "FrameCodecTests", dependencies: ["FrameCodec", "CFrameKernels", "CChunkCodec", "RecorderCore"], swiftSettings: strictSwift),
        .testTarget(name: "HDF5StoreTests", dependencies: ["HDF5Store", "FrameCodec", "RecorderCore", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .testTarget(name: "RecordingTests", dependencies: ["TestSupport", "Recording", "RecorderCore", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .testTarget(name: "FleetTests", dependencies: ["Recording", "RecorderCore", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
        .testTarget(name: "DaemonTests", dependencies: ["DaemonControl", "RecorderCore", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSwift),
    ]
)
