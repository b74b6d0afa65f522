import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `cnn-viz activations` and `cnn-viz filters`: the files they write are read back by NumPy
/// (the .npz with numpy.load) and checked against the runtime's own tensors and statistics
/// recomputed in NumPy.
final class FeatureMapCommandTests: EngineTestCase {
    func run(_ arguments: [String]) throws -> [String: Any] { try TestData.runJSON(arguments) }

    func testActivationsWritesNpyNpzStatisticsAndGrids() throws {
        let model = try TestData.model("winml_mnist.onnx")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("act-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var random = SeededRandom(state: 5)
        let input = Tensor(shape: [1, 1, 28, 28], floats: random.tensor([784]).floats.map { ($0 + 1) * 127 })
        let inputURL = out.appendingPathComponent("x.npy")
        try NumpyFile.write(input, to: inputURL)
        let manifest = try run(["activations", "--model", model.path, "--tensor", inputURL.path,
                                "--layer", "ReLU32_Output_0", "--layer", "Plus214_Output_0", "--out", out.appendingPathComponent("a").path,
                                "--format", "png,svg"])
        let layers = try XCTUnwrap(manifest["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["name"] as? String }, ["ReLU32_Output_0", "Plus214_Output_0"])
        let grids = try XCTUnwrap(layers[0]["grids"] as? [String])
        XCTAssertEqual(grids.map { URL(fileURLWithPath: $0).pathExtension }, ["png", "svg"])
        XCTAssertEqual((layers[1]["grids"] as? [String])?.count, 0, "a [1, 10] tensor has no grid")
        let session = try Session(contentsOf: model)
        let relu = try session.run([session.graph.inputs[0].name: input], outputs: ["ReLU32_Output_0"])["ReLU32_Output_0"]!
        let statistics = try XCTUnwrap(layers[0]["statistics"] as? [String: Any])
        // NumPy reads the archive and recomputes the statistics from it.
        let reference = try TestData.python("""
            import numpy as np, json
            z = np.load('\(manifest["npz"] as! String)')
            a = z['ReLU32_Output_0'].astype(np.float64)
            npy = np.load('\(layers[0]["npy"] as! String)')
            dead = [int(c) for c in range(a.shape[1]) if not (a[:, c] > 0).any()]
            print(json.dumps({"keys": sorted(z.files), "same": bool((npy == z['ReLU32_Output_0']).all()), "mean": a.mean(), "std": a.std(),
                              "max": a.max(), "zeros": float((a == 0).mean()), "dead": dead, "values": z['ReLU32_Output_0'].ravel()[:50].tolist()}))
            """)
        let numpy = try JSONSerialization.jsonObject(with: Data(reference.utf8)) as! [String: Any]
        XCTAssertEqual(numpy["keys"] as? [String], ["Plus214_Output_0", "ReLU32_Output_0"])
        XCTAssertEqual(numpy["same"] as? Bool, true)
        XCTAssertEqual((numpy["values"] as! [Double]).map(Float.init), Array(relu.floats.prefix(50)))
        for (ours, theirs) in [("mean", "mean"), ("standard_deviation", "std"), ("maximum", "max"), ("zero_fraction", "zeros")] {
            let a = statistics[ours] as! Double, b = numpy[theirs] as! Double
            XCTAssertEqual(a, b, accuracy: 1e-9 + 1e-9 * abs(b), ours)
        }
        XCTAssertEqual(statistics["dead_channels"] as? [Int], numpy["dead"] as? [Int])
        XCTAssertTrue(FileManager.default.fileExists(atPath: manifest["report"] as! String))
    }

    /// The .npz keys are the tensor names themselves, slashes included, as NumPy reads them.
    func testArchiveKeysKeepTheTensorNames() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("npz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let manifest = try run(["activations", "--model", model.path, "--preprocess", "caffe", try TestData.image("winml_dog.jpg").path,
                                "--layer", "fire9/concat_1", "--layer", "conv1_1", "--out", out.path])
        let keys = try TestData.python("""
            import numpy as np
            z = np.load('\(manifest["npz"] as! String)')
            print(','.join(sorted(z.files)), z['fire9/concat_1'].shape)
            """)
        XCTAssertEqual(keys, "conv1_1,fire9/concat_1 (1, 512, 13, 13)")
    }

    func testFiltersDrawsEveryConvAndRefusesUnknownLayers() throws {
        let model = try TestData.model("winml_mnist.onnx")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("filters-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let manifest = try run(["filters", "--model", model.path, "--out", out.path, "--format", "png,pdf"])
        let filters = try XCTUnwrap(manifest["filters"] as? [[String: Any]])
        XCTAssertEqual(filters.map { $0["shape"] as? [Int] }, [[8, 1, 5, 5], [16, 8, 5, 5]])
        for entry in filters {
            let files = entry["files"] as! [String]
            XCTAssertEqual(files.map { URL(fileURLWithPath: $0).pathExtension }, ["png", "pdf"])
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files[1])).prefix(5), Data("%PDF-".utf8))
        }
        let (status, _, message) = try TestData.runBinary(["filters", "--model", model.path, "--layer", "nope", "--out", out.path])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(message.contains("no Conv layer with constant weights named 'nope'"), message)
    }
}
