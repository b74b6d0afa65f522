import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `.npy` files that cnn-viz writes are read back by NumPy itself, the independent reference
/// for the format; and files NumPy writes (in every supported dtype) read into the values NumPy saved.
final class NumpyFileTests: EngineTestCase {
    func python(_ script: String) throws -> String { try TestData.python(script) }

    func testNumpyReadsWhatCnnVizWrites() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, Tensor)] = [
            ("f32", Tensor(shape: [2, 3], floats: [0.5, -1, 3.25, 1e-8, -0.0, 7])),
            ("f16", Tensor(shape: [3], floats: [0.5, -2, 65504], elementType: .float16)),
            ("f64", Tensor(shape: [1, 2], floats: [0.1, -3], elementType: .double)),
            ("i64", Tensor(shape: [4], integers: [-9_000_000_000, 0, 1, 42])),
            ("scalar", Tensor(shape: [], floats: [3])),
        ]
        for (name, tensor) in cases {
            try NumpyFile.write(tensor, to: directory.appendingPathComponent("\(name).npy"))
        }
        let summary = try python("""
        import numpy as np
        for n in ["f32", "f16", "f64", "i64", "scalar"]:
            a = np.load("\(directory.path)/" + n + ".npy")
            print(n, a.dtype, list(a.shape), [repr(float(v)) if a.dtype.kind == "f" else int(v) for v in a.ravel()])
        """)
        XCTAssertEqual(summary.split(separator: "\n").map(String.init), [
            "f32 float32 [2, 3] ['0.5', '-1.0', '3.25', '9.99999993922529e-09', '-0.0', '7.0']",
            "f16 float16 [3] ['0.5', '-2.0', '65504.0']",
            "f64 float64 [1, 2] ['0.10000000149011612', '-3.0']",
            "i64 int64 [4] [-9000000000, 0, 1, 42]",
            "scalar float32 [] ['3.0']",
        ])
    }

    func testCnnVizReadsWhatNumpyWrites() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try python("""
        import numpy as np
        values = np.array([1.5, -2.0, 0.25, 3.0, -0.5, 8.0])
        for dtype in ["float32", "float16", "float64", "int64", "int32", "uint8", "bool"]:
            source = np.abs(values) if dtype == "uint8" else values
            np.save("\(directory.path)/" + dtype + ".npy", source.astype(dtype).reshape(2, 3))
        np.save("\(directory.path)/v2.npy", np.zeros((1, 70000), np.float32), allow_pickle=False)
        """)
        let expected: [String: [Float]] = [
            "float32": [1.5, -2, 0.25, 3, -0.5, 8], "float16": [1.5, -2, 0.25, 3, -0.5, 8], "float64": [1.5, -2, 0.25, 3, -0.5, 8],
            "int64": [1, -2, 0, 3, 0, 8], "int32": [1, -2, 0, 3, 0, 8], "uint8": [1, 2, 0, 3, 0, 8], "bool": [1, 1, 1, 1, 1, 1],
        ]
        for (dtype, values) in expected {
            let tensor = try NumpyFile.read(contentsOf: directory.appendingPathComponent("\(dtype).npy"))
            XCTAssertEqual(tensor.shape, [2, 3], dtype)
            XCTAssertEqual(tensor.floats, values, dtype)
        }
        XCTAssertEqual(try NumpyFile.read(contentsOf: directory.appendingPathComponent("v2.npy")).shape, [1, 70000])
    }

    func testTruncatedNpyIsAnError() throws {
        var data = NumpyFile.encode(Tensor(shape: [10], floats: [Float](repeating: 1, count: 10)))
        data.removeLast(8)
        XCTAssertThrowsError(try NumpyFile.decode(data)) { error in
            XCTAssertTrue("\(error)".contains("needs 40 bytes, found 32"), "\(error)")
        }
        XCTAssertThrowsError(try NumpyFile.decode(Data("not numpy".utf8))) { error in
            XCTAssertTrue("\(error)".contains("magic"), "\(error)")
        }
    }
}
