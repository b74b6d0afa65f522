import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// What CAM maps must do beyond matching the reference: tell classes apart on a real photo,
/// stay in [0, 1], ignore the scale of the target, and fail or warn cleanly.
final class CAMBehaviourTests: EngineTestCase {
    /// A small seeded CNN whose logits are multiplied by `factor` in a last Mul node.
    func network(factor: Float) throws -> Session {
        var model = try NetworkBuilder(seed: 3).conv(out: 6, kernel: 3, pad: 1).relu().conv(out: 5, kernel: 3, pad: 1).relu()
            .maxPool(kernel: 2).flatten().dense(out: 4).build(inputShape: [1, 1, 8, 8])
        let logits = model.graph.outputs[0].name
        model.graph.nodes.append(Node(name: "scale", opType: "Mul", inputs: [logits, "factor"], outputs: ["scaled"]))
        model.graph.initializers["factor"] = Tensor.scalar(factor)
        model.graph.outputs = [ValueInfo(name: "scaled", elementType: .float32, shape: nil)]
        return try Session(model: model)
    }

    /// gradcam_both.png: a bulldog above a tabby cat. Class 281 (tabby) must put more of its map
    /// in the lower half of the image than class 243 (bull mastiff) does.
    func testGradCAMTellsTheDogFromTheCat() throws {
        let session = try Session(contentsOf: try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx"))
        let input = try Preprocessing.caffe.tensor(from: try ImageDecoder.decode(contentsOf: try TestData.image("gradcam_both.png")))
        let runner = CAMRunner(session: session)
        var lowerShare = [Int: Double]()
        for target in [243, 281] {
            let map = try runner.run(GradCAM(), input: input, request: CAMRequest(classes: [target])).map
            XCTAssertEqual(map.shape, [1, 224, 224])
            let values = map.floats
            let total = values.reduce(0) { $0 + Double($1) }, lower = values[(112 * 224)...].reduce(0) { $0 + Double($1) }
            lowerShare[target] = lower / total
        }
        print(String(format: "gradcam_both.png, fire9/concat_1: lower-half mass 243 (bull mastiff) %.3f, 281 (tabby) %.3f",
                     lowerShare[243]!, lowerShare[281]!))
        XCTAssertGreaterThan(lowerShare[281]!, lowerShare[243]! + 0.1)
    }

    /// Scale invariance holds for the methods linear in g or normalised by the score; not for
    /// Grad-CAM++ (α = g²/(2g² + ΣA·g³) changes with |g|) nor ScoreCAM (a softmax of raw
    /// scores), in pytorch-grad-cam as here, so those two are checked for [0, 1] only.
    func testMapsAreInTheUnitIntervalAndIgnoreTheTargetsScale() throws {
        let plain = CAMRunner(session: try network(factor: 1)), scaled = CAMRunner(session: try network(factor: 7.5))
        var random = SeededRandom(state: 21)
        let input = random.tensor([1, 1, 8, 8])
        for method in CAMMethods.all where method.name != "eigencam" {
            var request = CAMRequest(classes: [2])
            request.layers = ["relu2"]
            let a = try plain.run(method, input: input, request: request).map.floats
            let b = try scaled.run(method, input: input, request: request).map.floats
            XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 <= 1 } && b.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(method.name) leaves [0, 1]")
            if method.name == "gradcam++" || method.name == "scorecam" { continue }
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max()!, 1e-4, "\(method.name) depends on the score's scale")
        }
    }

    func testBadRequestsAndAllZeroMaps() throws {
        let runner = CAMRunner(session: try network(factor: 1))
        let input = Tensor(shape: [1, 1, 8, 8], floats: [Float](repeating: 0.5, count: 64))
        XCTAssertThrowsError(try CAMMethods.named("gradcam+++")) { XCTAssertTrue("\($0)".contains("unknown CAM method 'gradcam+++'")) }
        var request = CAMRequest(classes: [1])
        request.layers = ["relu9"]
        XCTAssertThrowsError(try runner.run(GradCAM(), input: input, request: request)) { XCTAssertTrue("\($0)".contains("nearest names")) }
        request.layers = ["flatten1"]
        XCTAssertThrowsError(try runner.run(GradCAM(), input: input, request: request)) { XCTAssertTrue("\($0)".contains("need a 4-D")) }
        request.layers = []
        request.classes = [4]
        XCTAssertThrowsError(try runner.run(GradCAM(), input: input, request: request)) { XCTAssertTrue("\($0)".contains("out of range")) }
        // A zero input through bias-free-of-signal layers: all activations equal, no gradient
        // structure; the map is all zero with a warning, never NaN.
        let zero = CAMRunner(session: try network(factor: 0))
        let result = try zero.run(GradCAM(), input: Tensor.zeros([1, 1, 8, 8]), request: CAMRequest(classes: [0]))
        XCTAssertTrue(result.map.floats.allSatisfy { $0 == 0 })
        XCTAssertEqual(result.warnings.count, 1)
        XCTAssertTrue(result.warnings[0].contains("all zero"), result.warnings[0])
    }
}
