import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The report's building blocks: the default layer rule, the inverse of preprocessing, HTML
/// escaping, and the `report` command end to end (its rendering is checked in Chromium by
/// `make test-browser`).
final class ReportTests: EngineTestCase {
    /// conv → relu → maxpool → flatten → gemm: the last 4-D tensor with H×W > 1 is the pool output.
    func testDefaultTargetLayerIsTheLastSpatialTensorBeforeTheHead() throws {
        let model = try NetworkBuilder(seed: 2).conv(out: 4, kernel: 3, pad: 1).relu().maxPool(kernel: 2).flatten().dense(out: 3)
            .build(inputShape: [1, 1, 8, 8])
        let session = try Session(model: model)
        let output = session.graph.outputs[0].name
        let values = try session.run([session.graph.inputs[0].name: Tensor.zeros([1, 1, 8, 8])], outputs: try session.headCandidates(for: output))
        let layer = try session.defaultTargetLayer(for: output) { values[$0]!.shape }
        XCTAssertEqual(layer, "pool1")
        XCTAssertEqual(values[layer]?.shape, [1, 4, 4, 4])
    }

    func testPreprocessingInverseGivesBackThePixels() throws {
        var pixels = [UInt8]()
        for i in 0..<(5 * 4 * 3) { pixels.append(UInt8((i * 37 + 11) % 256)) }
        let image = RGBImage(width: 5, height: 4, pixels: pixels)
        for preset in [Preprocessing.none, try Preprocessing.none.overridden(mean: "0.485,0.456,0.406", std: "0.229,0.224,0.225", bgr: true)] {
            let tensor = try preset.tensor(from: image)
            let back = try preset.image(from: tensor)
            XCTAssertEqual(back.pixels, image.pixels, "\(preset)")
        }
    }

    func testEscapingKeepsModelTextInert() {
        XCTAssertEqual(HTMLDocument.escape("<img src=x onerror=\"a&b\">'"), "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;&#39;")
    }

    func testReportCommandWritesPagesAndIndexWithThePredictions() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let images = [try TestData.image("skimage_chelsea.png"), try TestData.image("winml_dog.jpg")]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let manifest = try TestData.runJSON(["report"] + images.map(\.path) + ["--model", model.path, "--preprocess", "caffe", "--out", out.path])
        let results = try XCTUnwrap(manifest["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 2)
        // The charted top class is the model's top class on the same input.
        let session = try Session(contentsOf: model)
        for (result, image) in zip(results, images) {
            let tensor = try Preprocessing.caffe.tensor(from: try ImageDecoder.decode(contentsOf: image))
            let probabilities = try session.run(["data_0": tensor])["softmaxout_1"]!.floats
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
            let top = try XCTUnwrap(result["top"] as? [[String: Any]])
            XCTAssertEqual(top.first?["class"] as? Int, best)
            XCTAssertEqual(result["layer"] as? String, "fire9/concat_1")
            let html = try String(contentsOfFile: result["report"] as! String, encoding: .utf8)
            for section in ["Input as the model saw it", "Top 5 predictions", "Attribution", "Feature maps of fire9/concat_1",
                            "First-layer filters", "Layer statistics", "Model", "Run"] {
                XCTAssertTrue(html.contains("<h2>\(section)"), "missing section \(section)")
            }
            XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("<script"), "the page must stay offline")
        }
        let index = try String(contentsOfFile: manifest["index"] as! String, encoding: .utf8)
        XCTAssertTrue(index.contains("skimage_chelsea/report.html") && index.contains("winml_dog/report.html"))
    }

    /// With a target option the attribution section explains that target (here one class, so
    /// one Grad-CAM and one saliency figure) instead of the top two classes; the chart stays.
    func testReportExplainsTheTargetTheOptionsGive() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let image = try TestData.image("skimage_chelsea.png")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let manifest = try TestData.runJSON(["report", image.path, "--model", model.path, "--preprocess", "caffe", "--class", "281",
                                             "--out", out.path])
        let result = try XCTUnwrap((manifest["results"] as? [[String: Any]])?.first)
        let html = try String(contentsOfFile: result["report"] as! String, encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Top 5 predictions"))
        XCTAssertEqual(html.components(separatedBy: "<figcaption>gradcam for 281 class 281</figcaption>").count, 2, "one Grad-CAM, for class 281")
        XCTAssertEqual(html.components(separatedBy: "<figcaption>gradient for 281 class 281</figcaption>").count, 2, "one saliency map, for class 281")
        XCTAssertEqual(html.components(separatedBy: "<figcaption>gradcam for").count, 2, "no other target")
    }
}
