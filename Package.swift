// swift-tools-version: 6.1
import Foundation
import PackageDescription

// Hot kernels need a CPU with FMA: without it SIMD `addingProduct` lowers to a libm call (~100x slower).
// The flag is conditioned on the build host's architecture so the package still builds elsewhere.
#if arch(x86_64)
let fastMath: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let fastC: [CSetting] = [.unsafeFlags(["-mavx2", "-mfma"])]
#else
let fastMath: [SwiftSetting] = []
let fastC: [CSetting] = []
#endif

// oneDNN (Debian `libdnnl-dev`, no pkg-config file) runs the 3×3 convolutions with its JIT kernels when
// present; without it Conv2D uses its portable im2col + OpenBLAS path, so the package builds either way.
// `FSWEEP_NO_DNNL=1 swift build` builds the fallback alone even where the library is installed.
let hasDNNL = ProcessInfo.processInfo.environment["FSWEEP_NO_DNNL"] == nil
    && FileManager.default.fileExists(atPath: "/usr/include/oneapi/dnnl/dnnl.h")
let dnnlTargets: [Target] = hasDNNL
    ? [.target(name: "CDNNL", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")])]
    : []
let networksDependencies: [Target.Dependency] = hasDNNL ? ["TensorCore", "Trials", "CMachine", "CDNNL"] : ["TensorCore", "Trials", "CMachine"]

let package = Package(
    name: "fsweep",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fsweep", targets: ["fsweep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // Run-time CPU dispatch for the FMA-peak loop and glibc's allocator settings.
        .target(name: "CMachine", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "TensorCore", dependencies: ["CBLAS", "CFFTW", "CMachine", "Trials"], swiftSettings: fastMath),
        .target(name: "Networks", dependencies: networksDependencies, swiftSettings: fastMath),
        .target(name: "Datasets", dependencies: ["TensorCore", "Trials", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                swiftSettings: fastMath),
        .target(name: "Probes", dependencies: ["Networks", "Datasets", "Trials"], swiftSettings: fastMath),
        // The trial contract every module shares: config, result, lease, runner protocol, output names.
        .target(name: "Trials"),
        .target(name: "Sweeps", dependencies: [
            "Trials",
            .product(name: "Yams", package: "Yams"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "Cluster", dependencies: [
            "CZeroMQ", "Trials", "Sweeps", .product(name: "Logging", package: "swift-log"),
        ], exclude: ["Coordinator/LeaseProtocol.pml"]),  // spin's model of the lease protocol (LeaseProtocolModelTests)
        // Tables, figures and the HTML report from a sweep's store.
        .target(name: "Reports", dependencies: ["Trials", "Sweeps", "TensorCore", "Probes"]),
        // The read-only web dashboard (`fsweep serve`, `--dashboard`): pages, JSON API and live updates over HTTP.
        .target(name: "Dashboard", dependencies: [
            "Trials", "Sweeps", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "Runner", dependencies: ["Networks", "Datasets", "Probes", "Trials", "Sweeps", "CMachine"], swiftSettings: fastMath),
        .executableTarget(name: "fsweep", dependencies: [
            "TensorCore", "Networks", "Datasets", "Probes", "Trials", "Sweeps", "Reports", "Cluster", "Runner", "Dashboard",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: fastMath),

        // Test support shared by the test targets (the tolerance check); not part of any product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "Trials", "TestSupport"], swiftSettings: fastMath),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Trials", "TestSupport"], swiftSettings: fastMath),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Trials", "TestSupport"], swiftSettings: fastMath),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "Trials", "TestSupport"], swiftSettings: fastMath),
        .testTarget(name: "TrialsTests", dependencies: ["Trials", "TestSupport"]),
        .testTarget(name: "SweepsTests", dependencies: ["Sweeps", "Trials", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Sweeps", "Trials", "TestSupport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Trials", "Sweeps", "fsweep", "TestSupport"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Sweeps", "Trials", "fsweep", "TestSupport"]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Trials", "TestSupport"], swiftSettings: fastMath),
    ] + dnnlTargets,
    swiftLanguageModes: [.v6]
)
