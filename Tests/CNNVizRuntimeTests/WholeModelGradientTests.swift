import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Gradients of one logit through whole real models (SqueezeNet 1.1 fp32 and the two MNIST
/// nets in ../shared/data), with respect to the input and to an intermediate tensor, against
/// central finite differences that `scripts/reference/finite_differences.py` computes in
/// float64 with a NumPy re-implementation of the ops (checked against onnxruntime).
///
/// Why float64: SqueezeNet's input gradient is ~1e-5 on a logit of ~10, so a float32
/// difference of the logit is a few ULPs and no step size gives 1e-2. Probes whose forward
/// and backward differences disagree crossed a ReLU or max-pool kink and measure neither side;
/// they are skipped. Of the rest, those whose derivative is not tiny (≥ 1% of the largest
/// probed) must agree to 1e-2 relative, and there must be at least 20 per tensor.
final class WholeModelGradientTests: EngineTestCase {
    struct References: Decodable {
        struct Case: Decodable {
            var model: String, input_name: String, input: String, logits: String
            var `class`: Int
            var probes: [Probe]
        }
        struct Probe: Decodable {
            var tensor: String
            var indices: [Int]
            var finite_differences: [Double]
            var crosses_kink: [Bool]
        }
        var cases: [Case]
    }

    func check(_ stem: String) throws {
        _ = try TestData.model(stem + ".onnx")
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("finite_differences.json"))
        let references = try JSONDecoder().decode(References.self, from: Data(contentsOf: url))
        let reference = try XCTUnwrap(references.cases.first { $0.model.hasSuffix("/" + stem + ".onnx") }, "no references for \(stem)")
        let session = try Session(contentsOf: URL(fileURLWithPath: reference.model))
        let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.input))
        let result = try session.gradients([reference.input_name: input], seed: .logit(reference.logits, classes: [reference.class]),
                                           wrt: reference.probes.map(\.tensor))
        for probe in reference.probes {
            let gradient = try XCTUnwrap(result.gradients[probe.tensor]).floats
            let largest = probe.finite_differences.map(abs).max()!
            var compared = 0, worst = 0.0
            for (k, index) in probe.indices.enumerated() where !probe.crosses_kink[k] {
                let numeric = probe.finite_differences[k], analytic = Double(gradient[index])
                guard abs(numeric) >= 1e-2 * largest else { continue }
                compared += 1
                worst = max(worst, abs(analytic - numeric) / abs(numeric))
                XCTAssertLessThanOrEqual(abs(analytic - numeric), 1e-2 * abs(numeric),
                                         "\(stem): ∂\(reference.logits)[\(reference.class)]/∂\(probe.tensor) at flat index \(index): analytic \(analytic), finite difference \(numeric)")
            }
            XCTAssertGreaterThanOrEqual(compared, 20, "\(stem) \(probe.tensor): too few usable probes")
            print("\(stem): ∂\(reference.logits)[\(reference.class)]/∂\(probe.tensor): \(compared) probes, worst relative error \(worst)")
        }
    }

    func testSqueezeNet() throws { try check("squeezenet1.1_fp32_from_winml_fp16") }
    func testWinMLMnist() throws { try check("winml_mnist") }
    func testWonnxMnist() throws { try check("wonnx_opt-mnist") }
}
