// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Waymark",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "waymarkc", targets: ["waymarkc"]),
        .executable(name: "waymark-run", targets: ["waymark-run"]),
    ],
    dependencies: [
        // Command-line parsing for the two executables.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Python ints are unbounded; the runner's evaluator promotes to BigInt on overflow.
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
        // The dashboard's HTTP server: async sockets on epoll without SwiftNIO (a loopback
        // dashboard needs little; about 35 CPU-seconds to build, against minutes for NIO).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.0"),
        // /metrics in Prometheus's text format (with swift-metrics's types), not hand-formatted.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // The runtime reports actions and instances through swift-metrics (no-ops until a
        // process bootstraps a backend: serve's dashboard bootstraps Prometheus).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
    ],
    targets: [
        // The system CPython (Debian python3-dev), used only by the compiler to parse Python.
        .systemLibrary(
            name: "CPython",
            pkgConfig: "python3-embed",
            providers: [.apt(["python3-dev", "pkg-config"])]
        ),
        // libpq (Debian libpq-dev), used only by the runner's Postgres store.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // glibc's mallopt, for the runner's allocator settings (no library to link: it is libc).
        .systemLibrary(name: "CMalloc"),
        // WRL: the IR types, source locations, the WRL printer and parser. No dependencies.
        .target(name: "WaymarkIR"),
        // Python source -> WRL: the CPython bridge, discovery, lowering, diagnostics.
        .target(name: "WaymarkCompiler", dependencies: ["WaymarkIR", "WaymarkEval", "CPython"]),
        // SHA-256 for bundle versions and checksums, always compiled optimised: a bundle is
        // hashed several times as it is written and loaded, and unoptimised hashing of a bundle
        // holding a 20 MB literal took a debug waymarkc over a minute.
        .target(name: "WaymarkHash", dependencies: ["CSHA256"], swiftSettings: [.unsafeFlags(["-O"])]),
        // SHA-256's block function on x86-64's SHA extensions (WaymarkHash checks the CPU first).
        .target(name: "CSHA256", cSettings: [.unsafeFlags(["-O2"])]),
        // WRL -> DAG, bundles, DOT (and Graphviz, to draw it).
        .target(name: "WaymarkCodegen", dependencies: ["WaymarkIR", "WaymarkHash"]),
        // Python's semantics on values: the value model, operators, builtins, methods, models,
        // formatting, and the JSON codecs. One definition for the runner and the compiler's
        // constant folder, so `-O` cannot change a result.
        .target(name: "WaymarkEval", dependencies: ["WaymarkIR", .product(name: "BigInt", package: "BigInt")]),
        // Bundle execution, stores, Python worker pool. Never links CPython.
        .target(
            name: "WaymarkRunner",
            dependencies: [
                "WaymarkIR", "WaymarkEval", "WaymarkCodegen", "CLibPQ", "CMalloc", .product(name: "BigInt", package: "BigInt"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The web dashboard, /healthz and /metrics over the Postgres store, for serve and
        // `waymark-run dashboard`.
        .target(
            name: "WaymarkDashboard",
            dependencies: [
                "WaymarkRunner", "WaymarkEval", "WaymarkCodegen",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The compile pipeline end to end (Compiler, then Codegen), for waymarkc and the tests.
        .target(name: "WaymarkDriver", dependencies: ["WaymarkCompiler", "WaymarkCodegen", "WaymarkIR"]),
        .executableTarget(
            name: "waymarkc",
            dependencies: [
                "WaymarkDriver", "WaymarkCompiler", "WaymarkCodegen", "WaymarkIR",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "waymark-run",
            dependencies: [
                "WaymarkRunner", "WaymarkEval", "WaymarkCodegen", "WaymarkDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks print tables with a baseline measured in the same run; they assert nothing.
        .executableTarget(name: "compile-benchmark", dependencies: ["WaymarkDriver", "WaymarkCompiler", "WaymarkCodegen", "WaymarkIR"], path: "Benchmarks/CompileBenchmark"),
        .executableTarget(
            name: "runner-benchmark", dependencies: ["WaymarkDriver", "WaymarkRunner", "WaymarkEval", "WaymarkCompiler", "WaymarkCodegen"],
            path: "Benchmarks/RunnerBenchmark", exclude: ["workflows.py", "scale.sh", "explain.sh", "async_frames.py"]),
        // Fixture lookup and golden-file comparison, shared by the test targets.
        .target(name: "WaymarkTestSupport", dependencies: ["WaymarkCompiler", "WaymarkIR"], path: "Tests/WaymarkTestSupport"),
        .testTarget(name: "WaymarkIRTests", dependencies: ["WaymarkIR"]),
        .testTarget(name: "WaymarkCompilerTests", dependencies: ["WaymarkCompiler", "WaymarkIR", "WaymarkTestSupport"]),
        .testTarget(name: "WaymarkCodegenTests", dependencies: ["WaymarkDriver", "WaymarkCodegen", "WaymarkHash", "WaymarkCompiler", "WaymarkIR", "WaymarkTestSupport"]),
        .testTarget(
            name: "WaymarkRunnerTests",
            dependencies: ["WaymarkRunner", "WaymarkEval", "WaymarkDashboard", "WaymarkDriver", "WaymarkCodegen", "WaymarkCompiler", "WaymarkIR", "WaymarkTestSupport"]
        ),
    ]
)
