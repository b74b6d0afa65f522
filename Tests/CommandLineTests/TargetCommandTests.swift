import CNNVizAttribution
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// The target options of `gradcam` and `saliency` through the binary: batches of any size with
/// one class per image, NHWC tensors, named outputs, and errors that name the output's shape
/// and the target forms that fit it.
final class TargetCommandTests: EngineTestCase {
    func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("targets-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A --tensor batch of 1 to 4 scenes never crashes; with a comma list, each item is
    /// explained for its own class, and its map equals the library's map of that item alone.
    func testTensorBatchesWithOneClassPerImage() throws {
        let directory = temporaryDirectory()
        var random = SeededRandom(state: 5)
        let session = try Session(model: try EmbeddedShapesModel.model())
        for batch in 1...4 {
            let tensor = random.tensor([batch, 3, 64, 64])
            let path = directory.appendingPathComponent("batch\(batch).npy")
            try NumpyFile.write(tensor, to: path)
            let classes = (0..<batch).map { $0 % 6 }
            for command in ["gradcam", "saliency"] {
                let out = directory.appendingPathComponent("\(command)\(batch)")
                let manifest = try TestData.runJSON([command, "--tensor", path.path, "--class", classes.map(String.init).joined(separator: ","),
                                                     "--out", out.path])
                let results = try XCTUnwrap(manifest["results"] as? [[String: Any]])
                XCTAssertEqual(results.map { $0["class"] as? Int }, classes, "\(command) batch \(batch)")
                for (n, result) in results.enumerated() {
                    let raw = try NumpyFile.read(contentsOf: URL(fileURLWithPath: result["raw"] as! String))
                    let item = tensor.slice(n..<(n + 1))
                    let alone: Tensor
                    if command == "gradcam" {
                        alone = try CAMRunner(session: session).run(GradCAM(), input: item, request: CAMRequest(classes: [classes[n]])).map
                    } else {
                        alone = try SaliencyRunner(session: session).run(.gradient, input: item, request: SaliencyRequest(classes: [classes[n]])).attribution
                    }
                    XCTAssertEqual(raw.count, alone.count)
                    let worst = zip(raw.floats, alone.floats).map { abs($0 - $1) }.max() ?? .infinity
                    XCTAssertLessThanOrEqual(worst, 1e-6, "\(command) batch \(batch) item \(n)")
                    XCTAssertFalse((result["overlay"] as! [String]).isEmpty, "a tensor of a known preprocessing gets a picture")
                }
            }
        }
    }

    /// Targets that do not fit the chosen output fail with its name, its shape and the forms
    /// that would fit; a class list of the wrong length names both counts.
    /// --memory-limit picks the batch of integrated gradients' steps: ⌊limit / one image's
    /// activations⌋ up to --batch-size, at least 1, reported as batch_size; the map does not
    /// depend on it (the kernels give each image the same values in any batch).
    func testMemoryLimitPicksTheBatchAndLeavesTheMapUnchanged() throws {
        let directory = temporaryDirectory()
        let scene = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "samples/images").sorted().first { $0.hasSuffix(".png") })
        let session = try Session(model: try EmbeddedShapesModel.model())
        let perImage = try ModelSummary.summary(for: session).totals.activationBytes
        var maps = [Int: [Float]]()
        for (limit, expected) in [("1K", 1), ("\(3 * perImage + perImage / 2)", 3), ("4G", 16)] {
            let out = directory.appendingPathComponent("limit\(expected)")
            let manifest = try TestData.runJSON(["saliency", "samples/images/\(scene)", "--method", "integrated-gradients", "--steps", "16",
                                                 "--batch-size", "16", "--memory-limit", limit, "--out", out.path])
            let result = try XCTUnwrap((manifest["results"] as? [[String: Any]])?.first)
            XCTAssertEqual(result["batch_size"] as? Int, expected, "--memory-limit \(limit)")
            maps[expected] = try NumpyFile.read(contentsOf: URL(fileURLWithPath: result["raw"] as! String)).floats
        }
        assertClose(maps[3]!, maps[1]!, .reordering, "batches of 3 against 1")
        assertClose(maps[16]!, maps[1]!, .reordering, "batches of 16 against 1")
        let (status, _, message) = try TestData.runBinary(["saliency", "samples/images/\(scene)", "--memory-limit", "lots"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(message.contains("--memory-limit"), message)
    }

    func testTargetsThatDoNotFitNameTheShapeAndTheFormsThatFit() throws {
        let directory = temporaryDirectory()
        let scene = TestData.repositoryRoot.appendingPathComponent("samples/images/circle_1.png").path
        for (arguments, fragments) in [
            (["--index", "3,4"], ["'logits' of shape [1, 6]", "Targets that fit", "--index i0", "The model's outputs: logits"]),
            (["--class", "9"], ["out of range", "[1, 6]"]),
            (["--mask", "predicted", "--class", "1"], ["dense [N, C, H, W]", "[1, 6]"]),
            (["--class", "1,2"], ["2 classes for 1 images"]),
            (["--output", "no_such_tensor"], ["no_such_tensor"]),
        ] {
            let (status, _, message) = try TestData.runBinary(["gradcam", scene, "--out", directory.path] + arguments)
            XCTAssertEqual(status, 1, "\(arguments)")
            for fragment in fragments { XCTAssertTrue(message.contains(fragment), "\(arguments): '\(message)' should mention \(fragment)") }
        }
    }
}
