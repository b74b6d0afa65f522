// swift-tools-version:6.0
import Foundation
import PackageDescription

/// No target carries unsafe flags: SwiftPM refuses a version-pinned dependency that has them.
/// The kernels are plain loops for the compiler to vectorise; the Makefile's own builds pass
/// `-Xswiftc -target-cpu -Xswiftc haswell` on x86-64 (AVX2 + FMA) from the command line.

/// The library modules a user may import, each its own product; `CNNViz` re-exports them all.
let libraryModules = ["CNNVizRuntime", "CNNVizImaging", "CNNVizRender", "CNNVizAttribution", "CNNVizReport", "CNNVizShapes"]

let package = Package(
    name: "cnn-viz",
    products: [
        .executable(name: "cnn-viz", targets: ["cnn-viz"]),
        .library(name: "CNNViz", targets: ["CNNViz"]),
    ] + libraryModules.map { .library(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // C shims: one system library each, found through pkg-config.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev", "libjpeg62-turbo-dev"])]),
        // libpng's low-level reader, whose longjmp error handling has to live in C.
        .target(name: "CPNGReader", dependencies: ["CPNG"]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // oneDNN (libdnnl-dev) behind a thin C shim: the one place that knows its 2.x API. The
        // shim opens libdnnl.so.2 at first use (DNNLLibrary.c says why), so it links only libdl.
        .target(name: "CDNNLShim", linkerSettings: [.linkedLibrary("dl")]),
        // glibc's mallopt, to keep activation buffers on the heap between layers.
        .systemLibrary(name: "CMalloc"),

        // Code generated from onnx.proto by protoc-gen-swift (see scripts/regenerate-onnx-proto.sh).
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Tensors, kernels, graph IR, ONNX import, executor with hooks.
        .target(
            name: "CNNVizRuntime",
            dependencies: ["COpenBLAS", "CDNNLShim", "CMalloc", "ONNXProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Image decoding and preprocessing.
        .target(name: "CNNVizImaging", dependencies: ["CNNVizRuntime", "CPNG", "CPNGReader", "CJPEG", "COpenBLAS"]),
        // Colormaps, overlays, grids and figures, drawn through Cairo to PNG, PDF and SVG.
        .target(name: "CNNVizRender", dependencies: ["CNNVizRuntime", "CNNVizImaging", "CCairo"]),
        // Attribution: the CAM family and the gradient methods.
        .target(name: "CNNVizAttribution", dependencies: ["CNNVizRuntime"]),
        // Reports: self-contained HTML, .npz archives, layer statistics.
        .target(name: "CNNVizReport", dependencies: ["CNNVizRuntime", "CNNVizImaging", "CNNVizRender", "CNNVizAttribution", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // The shapes world: generated scenes with ground truth, the default model's training and evaluation.
        .target(name: "CNNVizShapes", dependencies: ["CNNVizRuntime", "CNNVizImaging", "CNNVizRender", "CNNVizAttribution", "CCairo"]),
        // The umbrella: re-exports every library module.
        .target(name: "CNNViz", dependencies: libraryModules.map { .target(name: $0) }),
        .executableTarget(
            name: "cnn-viz",
            dependencies: [
                "CNNVizRuntime", "CNNVizImaging", "CNNVizRender", "CNNVizReport", "CNNVizAttribution", "CNNVizShapes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Tests: one target per module, the command line's own, and the helpers they share
        // (test data, seeded values, named tolerances). Tests may use any library module.
        .target(name: "CNNVizTestSupport", dependencies: ["CNNVizRuntime", "CNNVizImaging"], path: "Tests/CNNVizTestSupport"),
    ] + (libraryModules.map { "\($0)Tests" } + ["CommandLineTests"]).map { name in
        .testTarget(name: name, dependencies: libraryModules.map { .target(name: $0) } + ["CNNVizTestSupport", "ONNXProto"])
    },
    // Swift 5 mode: the engine shares mutable state across its worker threads by design
    // (Session's batch flag, unsafe buffers split between workers, the worker pool), which
    // Swift 6's strict concurrency checking rejects until each is restructured or annotated.
    swiftLanguageModes: [.v5]
)
