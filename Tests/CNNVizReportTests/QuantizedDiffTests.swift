import CNNVizReport
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `cnn-viz diff` as a deployment debugger, on the quantized models that
/// `scripts/reference/quantized_models.py` makes with onnxruntime's quantizer.
final class QuantizedDiffTests: XCTestCase {
    var folder: URL { TestData.referenceDirectory.appendingPathComponent("quantized") }

    func diff(_ arguments: [String]) throws -> (Int32, [String: Any], String) {
        let (status, data, message) = try TestData.runBinary(["diff"] + arguments + ["--json"])
        return (status, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:], message)
    }

    struct Blame: Decodable {
        var float: String
        var damaged: String
        var requantized: String
        var damagedNode: String
        var damagedOutputs: [String]
        var photos: Int
    }

    /// One conv's weight scale ×8 in a QDQ model: over 20 photos the diff ranks that conv first
    /// by the error it adds alone, every layer from it on fails, and nodes_to_exclude names it.
    /// The float model requantized without that node agrees with the float model on more photos.
    func testBlameFindsTheDamagedConvAndExcludingItHelps() throws {
        let blame = try TestData.manifest(Blame.self, at: "quantized/blame/blame.json")
        let photos = folder.appendingPathComponent("blame")
        let common = [photos.path, "--model", folder.appendingPathComponent(blame.float).path, "--preprocess", "imagenet", "--resize-only"]
        let page = FileManager.default.temporaryDirectory.appendingPathComponent("blame-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: page) }
        let (status, damaged, message) = try diff(common + ["--model-b", photos.appendingPathComponent(blame.damaged).path, "--html", page.path])
        XCTAssertEqual(status, 3, message)
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("nodes_to_exclude = [" + HTMLDocument.escape("\"\(blame.damagedNode)\"")), "the page recommends the damaged node")
        XCTAssertTrue(html.contains(HTMLDocument.escape(blame.damagedOutputs[0]) + " [1, "), "the page draws the damaged layer")
        XCTAssertEqual(damaged["images"] as? Int, blame.photos)
        let ranked = try XCTUnwrap(damaged["blame"] as? [[String: Any]])
        XCTAssertEqual(ranked.first?["name"] as? String, blame.damagedOutputs[0], "the damaged conv adds the most error")
        XCTAssertTrue((damaged["nodes_to_exclude"] as? [String] ?? []).contains(blame.damagedNode))
        let layers = try XCTUnwrap(damaged["layers"] as? [[String: Any]])
        let first = try XCTUnwrap(layers.firstIndex { ($0["pass"] as? Bool) == false })
        XCTAssertEqual(layers[first]["name"] as? String, blame.damagedOutputs[0], "the first failing layer is the damaged one")

        let (_, requantized, requantizedMessage) = try diff(common + ["--model-b", photos.appendingPathComponent(blame.requantized).path])
        let before = try XCTUnwrap(damaged["top1_agreement"] as? Int), after = try XCTUnwrap(requantized["top1_agreement"] as? Int, requantizedMessage)
        print("top-1 agreement with the float model over \(blame.photos) photos: damaged \(before), requantized without \(blame.damagedNode) \(after)")
        XCTAssertGreaterThan(after, before)
        XCTAssertLessThan(try XCTUnwrap(requantized["mean_kl_divergence"] as? Double), try XCTUnwrap(damaged["mean_kl_divergence"] as? Double))
    }

    /// A dataset diff with a truncated PNG among good photos: the bad file is skipped with its
    /// reason, the others are compared, and the exit status is 4 (every layer passed on them).
    func testDatasetDiffSkipsAnUnreadableImage() throws {
        let blame = try TestData.manifest(Blame.self, at: "quantized/blame/blame.json")
        let photos = folder.appendingPathComponent("blame")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for k in 0..<3 { try FileManager.default.copyItem(at: photos.appendingPathComponent("photo_0\(k).png"), to: directory.appendingPathComponent("photo_0\(k).png")) }
        try Data(try Data(contentsOf: photos.appendingPathComponent("photo_00.png")).prefix(300)).write(to: directory.appendingPathComponent("truncated.png"))
        let (status, report, message) = try diff([directory.path, "--model", folder.appendingPathComponent(blame.float).path, "--preprocess", "imagenet",
                                                  "--resize-only", "--model-b", folder.appendingPathComponent("small_cnn_qdq_per_channel.onnx").path])
        XCTAssertEqual(status, 4, message)
        XCTAssertEqual(report["images"] as? Int, 3)
        let skipped = try XCTUnwrap(report["skipped"] as? [[String: Any]])
        XCTAssertEqual(skipped.count, 1)
        XCTAssertTrue((skipped.first?["image"] as? String ?? "").hasSuffix("truncated.png"))
        XCTAssertTrue((skipped.first?["reason"] as? String ?? "").contains("truncated"), message)
    }

    /// A quantized model against its float original, one input: QDQ tensors match the float
    /// tensors they stand for, QOperator ones by name (a conv that absorbed its ReLU pairs with
    /// the ReLU's output), dynamic ones are float tensors of the same names; the default check
    /// is the quantized one (every layer above 15 dB here) and passes; most layers get a blame.
    func testQuantizedModelsMatchTheirFloatLayers() throws {
        let input = folder.appendingPathComponent("small_cnn.input.npy")
        let x = try NumpyFile.read(contentsOf: input)
        let one = FileManager.default.temporaryDirectory.appendingPathComponent("q-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: one) }
        try NumpyFile.write(Tensor(shape: [1] + x.shape.dropFirst(), floats: Array(x.floats.prefix(x.count / x.shape[0]))), to: one)
        for format in ["qdq_per_channel", "qoperator", "dynamic"] {
            let (status, report, message) = try diff(["--tensor", one.path, "--model", folder.appendingPathComponent("small_cnn.onnx").path,
                                                      "--model-b", folder.appendingPathComponent("small_cnn_\(format).onnx").path])
            XCTAssertEqual(status, 0, "\(format): \(message)")
            let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
            XCTAssertGreaterThanOrEqual(layers.count, 16, format)
            XCTAssertTrue(layers.contains { $0["name"] as? String == "/stem/stem.2/Relu_output_0" }, "\(format): the first conv's output pairs with the ReLU it absorbed")
            XCTAssertTrue(layers.contains { $0["name"] as? String == "logits" })
            for layer in layers { XCTAssertGreaterThan(layer["sqnr_db"] as? Double ?? .infinity, 15, "\(format) \(layer["name"]!)") }
            let blame = try XCTUnwrap(report["blame"] as? [[String: Any]])
            XCTAssertGreaterThanOrEqual(blame.count, 10, format)
        }
    }

    /// Grad-CAM on a QDQ model, through straight-through gradients: the map of a class is the
    /// float model's map up to quantisation noise (Pearson correlation above 0.99 here).
    func testGradCAMOnAQDQModelFollowsTheFloatModel() throws {
        let photo = folder.appendingPathComponent("blame/photo_03.png")
        var maps = [[Float]]()
        for model in ["small_cnn.onnx", "small_cnn_qdq_per_channel.onnx"] {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("gc-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: out) }
            let (status, _, message) = try TestData.runBinary(["gradcam", photo.path, "--model", folder.appendingPathComponent(model).path,
                                                               "--preprocess", "imagenet", "--resize-only", "--class", "3", "--view", "model", "--out", out.path])
            XCTAssertEqual(status, 0, message)
            maps.append(try NumpyFile.read(contentsOf: out.appendingPathComponent("gradcam_3.npy")).floats)
        }
        let (a, b) = (maps[0].map(Double.init), maps[1].map(Double.init))
        let (ma, mb) = (a.reduce(0, +) / Double(a.count), b.reduce(0, +) / Double(b.count))
        let covariance = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
        let correlation = covariance / (a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) } * b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) }).squareRoot()
        XCTAssertGreaterThan(correlation, 0.99)
    }

    /// Two unrelated networks share almost no layer: an error that lists both models' first
    /// layers, never "0 layers compared, all within tolerance".
    func testUnrelatedModelsAreAnErrorNotAPass() throws {
        let one = FileManager.default.temporaryDirectory.appendingPathComponent("q-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: one) }
        try NumpyFile.write(SeededRandom(state: 1).tensorOf([1, 3, 64, 64]), to: one)
        let (status, _, message) = try diff(["--tensor", one.path, "--model", folder.appendingPathComponent("small_cnn.onnx").path,
                                             "--model-b", TestData.repositoryRoot.appendingPathComponent("samples/models/shapes.onnx").path])
        XCTAssertEqual(status, 1, message)
        XCTAssertTrue(message.contains("fewer than half"), message)
        XCTAssertTrue(message.contains("First layers of A: /stem/stem.0/Conv_output_0"), message)

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let (emptyStatus, _, emptyMessage) = try diff([empty.path, "--model", folder.appendingPathComponent("small_cnn.onnx").path,
                                                       "--model-b", folder.appendingPathComponent("small_cnn_qdq_per_channel.onnx").path])
        XCTAssertEqual(emptyStatus, 1, "an empty dataset folder is an error: \(emptyMessage)")
        XCTAssertTrue(emptyMessage.contains(empty.lastPathComponent), emptyMessage)
    }
}

extension SeededRandom {
    /// A tensor of seeded values, from a fresh copy of the generator.
    func tensorOf(_ shape: [Int]) -> Tensor {
        var copy = self
        return copy.tensor(shape)
    }
}
