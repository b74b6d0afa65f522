import CNNVizAttribution
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// Properties the gradient methods must have whatever the model: completeness of integrated
/// gradients, guided backprop blocking negative gradients, occlusion by one window covering
/// everything, and a noise tunnel with σ = 0.
final class SaliencyPropertyTests: EngineTestCase {
    func mnist() throws -> (SaliencyRunner, Tensor) {
        let session = try Session(contentsOf: try TestData.model("winml_mnist.onnx"))
        var random = SeededRandom(state: 77)
        let input = Tensor(shape: [1, 1, 28, 28], floats: random.tensor([784]).floats.map { ($0 + 1) * 127.5 })
        return (SaliencyRunner(session: session), input)
    }

    func logit(_ runner: SaliencyRunner, _ x: Tensor, _ target: Int) throws -> Double {
        Double(try runner.session.run([runner.session.graph.inputs[0].name: x])[runner.session.graph.outputs[0].name]!.floats[target])
    }

    /// Σ attributions = f(x) − f(baseline) within 1% at 64 steps of Gauss–Legendre, Captum's
    /// default rule. (Captum's trapezoid weights sum to (n − 1)/n, so that rule is biased by
    /// design; the agreement test checks it against Captum's numbers instead.)
    func testIntegratedGradientsIsComplete() throws {
        let (runner, x) = try mnist()
        let target = 3
        let delta = try logit(runner, x, target) - logit(runner, Tensor.zeros(x.shape), target)
        var request = SaliencyRequest(classes: [target])
        request.steps = 64
        request.integration = .gaussLegendre
        let sum = try runner.run(.integratedGradients, input: x, request: request).attribution.floats.reduce(0) { $0 + Double($1) }
        print(String(format: "integrated gradients, gauss-legendre, 64 steps: Σ attributions %.4f, f(x) − f(0) %.4f", sum, delta))
        XCTAssertLessThanOrEqual(abs(sum - delta), 0.01 * abs(delta))
    }

    /// Where the plain gradient is negative at a ReLU, guided backprop passes nothing: the two
    /// differ, and guided backprop is zero wherever deconvnet and the gradient disagree in sign.
    func testGuidedBackpropDiffersFromTheGradient() throws {
        let (runner, x) = try mnist()
        let request = SaliencyRequest(classes: [3])
        let plain = try runner.run(.gradient, input: x, request: request).attribution.floats
        let guided = try runner.run(.guidedBackprop, input: x, request: request).attribution.floats
        let changed = zip(plain, guided).filter { abs($0 - $1) > 1e-6 * max(abs($0), 1e-3) }.count
        XCTAssertGreaterThan(changed, plain.count / 10, "guided backprop should change many input gradients")
        XCTAssertTrue(guided.contains { $0 != 0 })
    }

    func testOcclusionWithOneWindowOverEverythingIsTheScoreDrop() throws {
        let (runner, x) = try mnist()
        var request = SaliencyRequest(classes: [5])
        request.window = (28, 28)
        request.stride = (28, 28)
        request.occlusionValue = 0
        let attribution = try runner.run(.occlusion, input: x, request: request).attribution.floats
        let delta = Float(try logit(runner, x, 5) - logit(runner, Tensor.zeros(x.shape), 5))
        XCTAssertTrue(attribution.allSatisfy { abs($0 - delta) <= 1e-4 * max(1, abs(delta)) }, "expected \(delta) everywhere")
    }

    func testNoiseTunnelWithoutNoiseIsTheMethodItself() throws {
        let (runner, x) = try mnist()
        var request = SaliencyRequest(classes: [3])
        let plain = try runner.run(.gradient, input: x, request: request).attribution.floats
        request.noise = NoiseTunnel(kind: .smoothgrad, samples: 3, sigma: 0)
        XCTAssertEqual(try runner.run(.gradient, input: x, request: request).attribution.floats, plain)
        request.noise = NoiseTunnel(kind: .smoothgradSquared, samples: 3, sigma: 0)
        XCTAssertEqual(try runner.run(.gradient, input: x, request: request).attribution.floats, plain.map { Float(Double($0) * Double($0)) })
        request.noise = NoiseTunnel(kind: .vargrad, samples: 3, sigma: 0)
        XCTAssertTrue(try runner.run(.gradient, input: x, request: request).attribution.floats.allSatisfy { abs($0) < 1e-9 })
        // With noise, a different seed gives a different smoothgrad.
        request.noise = NoiseTunnel(kind: .smoothgrad, samples: 4, sigma: 20, seed: 1)
        let first = try runner.run(.gradient, input: x, request: request).attribution.floats
        request.noise?.seed = 2
        XCTAssertNotEqual(first, try runner.run(.gradient, input: x, request: request).attribution.floats)
    }

    /// Noisy copies run through the network a batch at a time, drawn in sample order: the
    /// result must not depend on the batch size (up to the order of float sums within a batch).
    func testNoiseTunnelDoesNotDependOnTheBatchSize() throws {
        // The shapes model takes any batch (the MNIST model's Reshape fixes it to 1).
        let runner = SaliencyRunner(session: try Session(model: try EmbeddedShapesModel.model()))
        var random = SeededRandom(state: 78)
        let x = random.tensor([1, 3, 64, 64])
        for method in [SaliencyMethod.gradient, .inputXGradient, .guidedBackprop] {
            var request = SaliencyRequest(classes: [3])
            request.noise = NoiseTunnel(kind: .vargrad, samples: 7, sigma: 0.3, seed: 5)
            request.batchSize = 1
            let oneByOne = try runner.run(method, input: x, request: request).attribution.floats
            request.batchSize = 4
            let batched = try runner.run(method, input: x, request: request).attribution.floats
            let scale = oneByOne.map(abs).max() ?? 0
            XCTAssertGreaterThan(scale, 0)
            for (a, b) in zip(oneByOne, batched) where abs(a - b) > 1e-5 * scale {
                return XCTFail("\(method.rawValue): batch 4 gives \(b) where one at a time gives \(a)")
            }
        }
    }

    func testBadRequests() throws {
        let (runner, x) = try mnist()
        XCTAssertThrowsError(try SaliencyMethod.named("gradients")) { XCTAssertTrue("\($0)".contains("unknown saliency method")) }
        XCTAssertThrowsError(try runner.run(.gradient, input: x, request: SaliencyRequest(classes: [10]))) { XCTAssertTrue("\($0)".contains("out of range")) }
        var request = SaliencyRequest(classes: [1])
        request.window = (40, 40)
        XCTAssertThrowsError(try runner.run(.occlusion, input: x, request: request)) { XCTAssertTrue("\($0)".contains("must fit")) }
    }
}
