import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The command-line contract that other tools call: `cnn-viz run … --json --repeat N` and
/// `cnn-viz predict … --json`, checked against onnxruntime's values and the photos' labels.
final class CommandLineTests: EngineTestCase {
    func runBinary(_ arguments: [String]) throws -> (Int32, Data) {
        let (status, data, _) = try TestData.runBinary(arguments)
        return (status, data)
    }

    func runBinaryWithErrors(_ arguments: [String]) throws -> (Int32, Data, String) { try TestData.runBinary(arguments) }

    /// `run --backward` on SqueezeNet: the pre-softmax logit is seeded (and the note says so),
    /// the gradient files equal the library's, and the timing has backward_ms.
    func testRunBackwardWritesGradientsAndSaysWhichLogit() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        var random = SeededRandom(state: 12)
        let input = random.tensor([1, 3, 224, 224], scale: 100)
        let inputURL = out.appendingPathComponent("x.npy")
        try NumpyFile.write(input, to: inputURL)
        let (status, data, message) = try runBinaryWithErrors([
            "run", "--model", model.path, "--tensor", inputURL.path, "--backward", "softmaxout_1:281", "--wrt", "input",
            "--wrt", "fire9/concat_1", "--out", out.path, "--json", "--repeat", "2"])
        XCTAssertEqual(status, 0, message)
        XCTAssertTrue(message.contains("pool10_1") && message.contains("pre-softmax"), message)
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let gradients = try XCTUnwrap(manifest["gradients"] as? [String: String])
        let seed = try XCTUnwrap(manifest["seed"] as? [String: Any])
        XCTAssertEqual(seed["tensor"] as? String, "pool10_1")
        XCTAssertGreaterThan((manifest["timing"] as? [String: Double])?["backward_ms"] ?? 0, 0)
        let session = try Session(contentsOf: model)
        let expected = try session.gradients(["data_0": input], seed: .logit("pool10_1", classes: [281]), wrt: ["data_0", "fire9/concat_1"])
        for (asked, name) in [("input", "data_0"), ("fire9/concat_1", "fire9/concat_1")] {
            let written = try NumpyFile.read(contentsOf: URL(fileURLWithPath: try XCTUnwrap(gradients[asked])))
            XCTAssertEqual(written.shape, expected.gradients[name]!.shape)
            XCTAssertEqual(written.floats, expected.gradients[name]!.floats, asked)
        }
    }

    func testRunBackwardBadRequestsExitWithTheNames() throws {
        let model = try TestData.model("winml_mnist.onnx")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let inputURL = out.appendingPathComponent("x.npy")
        try NumpyFile.write(Tensor.zeros([1, 1, 28, 28]), to: inputURL)
        let base = ["run", "--model", model.path, "--tensor", inputURL.path, "--out", out.appendingPathComponent("o").path]
        for (extra, fragments) in [
            (["--backward", "Plus214_Output_0:3", "--wrt", "ReLU32_Output"], ["no tensor or node named 'ReLU32_Output'", "ReLU32_Output_0"]),
            (["--backward", "Plus214_Output_0:10", "--wrt", "input"], ["class index 10 is out of range", "0..<10"]),
            (["--backward", "Plus21:3", "--wrt", "input"], ["'Plus21'", "Plus214_Output_0"]),
            (["--wrt", "input"], ["--backward"]),
        ] {
            let (status, _, message) = try runBinaryWithErrors(base + extra)
            XCTAssertNotEqual(status, 0, "\(extra)")
            for fragment in fragments { XCTAssertTrue(message.contains(fragment), "\(extra): '\(message)' should mention \(fragment)") }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("o").path), "\(extra) wrote output")
        }
    }

    func testRunWritesOutputsAndTiming() throws {
        let casesURL = try TestData.require(TestData.referenceDirectory.appendingPathComponent("cases.json"))
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: casesURL)) as! [String: [[String: Any]]]
        let mnist = try XCTUnwrap(cases["cases"]!.first { ($0["name"] as! String).hasPrefix("winml_mnist/") })
        let inputs = mnist["inputs"] as! [String: String], expected = mnist["expected"] as! [String: String]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, data) = try runBinary(["run", "--model", mnist["model"] as! String, "--tensor", inputs.values.first!,
                                            "--out", out.path, "--json", "--repeat", "3", "--threads", "1"])
        XCTAssertEqual(status, 0)
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let outputs = manifest["outputs"] as! [String: String]
        let timing = manifest["timing"] as! [String: Double]
        XCTAssertGreaterThan(timing["forward_ms"] ?? 0, 0)
        // The engine line names oneDNN's version and ISA, and the --threads asked for.
        let engine = try XCTUnwrap(manifest["engine"] as? [String: Any])
        XCTAssertEqual(engine["threads"] as? Int, 1)
        XCTAssertTrue((engine["onednn"] as? String)?.hasPrefix("2.") == true, "\(engine)")
        XCTAssertFalse((engine["isa"] as? String ?? "").isEmpty)
        for (name, path) in expected {
            let ours = try NumpyFile.read(contentsOf: URL(fileURLWithPath: outputs[name]!)).floats
            let reference = try NumpyFile.read(contentsOf: URL(fileURLWithPath: path)).floats
            let scale = reference.map(abs).max()!
            XCTAssertLessThanOrEqual(zip(ours, reference).map { abs($0 - $1) }.max()!, 1e-4 * scale, name)
        }
    }

    func testPredictJSON() throws {
        let (status, data) = try runBinary([
            "predict", try TestData.image("skimage_coffee.png").path, try TestData.image("winml_dog.jpg").path,
            "--model", try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx").path,
            "--labels", try TestData.require(TestData.shared.appendingPathComponent("data/labels/imagenet_synset.txt")).path,
            "--preprocess", "caffe", "--top", "2", "--json",
        ])
        XCTAssertEqual(status, 0)
        let results = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["results"] as! [[String: Any]]
        let tops = results.map { ($0["top"] as! [[String: Any]]) }
        XCTAssertEqual(tops.map { $0[0]["class"] as! Int }, [967, 207])
        XCTAssertEqual(tops.map { $0[0]["label"] as! String }, ["espresso", "golden retriever"])
        XCTAssertEqual(tops.map(\.count), [2, 2])
        for top in tops {
            let scores = top.map { $0["score"] as! Double }
            XCTAssertGreaterThanOrEqual(scores[0], scores[1])
            XCTAssertLessThanOrEqual(scores.reduce(0, +), 1.0 + 1e-6)
        }
    }

    /// `gradcam` on an image: the JSON names image, class, label, score, method, layer and every
    /// file; `raw` holds the same map as the library gives for the same preprocessed input.
    func testGradCAMCommandWritesRawMapsOverlaysAndReport() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let image = try TestData.image("gradcam_both.png")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gradcam-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, data, message) = try runBinaryWithErrors([
            "gradcam", image.path, "--model", model.path, "--preprocess", "caffe", "--method", "gradcam++", "--top", "2",
            "--out", out.path, "--format", "png,svg", "--json"])
        XCTAssertEqual(status, 0, message)
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let results = try XCTUnwrap(manifest["results"] as? [[String: Any]])
        let session = try Session(contentsOf: model)
        let input = try Preprocessing.caffe.tensor(from: try ImageDecoder.decode(contentsOf: image))
        let logits = try session.run(["data_0": input], outputs: ["pool10_1"])["pool10_1"]!.floats
        XCTAssertEqual(results.map { $0["class"] as? Int }, Array(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(2)))
        for result in results {
            XCTAssertEqual(result["method"] as? String, "gradcam++")
            XCTAssertEqual(result["layer"] as? String, "fire9/concat_1")
            XCTAssertEqual((result["overlay"] as? [String])?.map { URL(fileURLWithPath: $0).pathExtension }, ["png", "svg"])
            XCTAssertTrue(FileManager.default.fileExists(atPath: result["report"] as! String))
            let raw = try NumpyFile.read(contentsOf: URL(fileURLWithPath: result["raw"] as! String))
            let expected = try CAMRunner(session: session).run(GradCAMPlusPlus(), input: input,
                                                               request: CAMRequest(classes: [result["class"] as! Int])).map
            XCTAssertEqual(raw.shape, [224, 224])
            XCTAssertEqual(raw.floats, expected.floats)
        }
    }
}
