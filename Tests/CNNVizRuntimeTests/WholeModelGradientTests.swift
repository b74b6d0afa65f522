import CNNVizRuntime
import Foundation
import XCTest

/// Gradients of one logit through whole real models (SqueezeNet 1.1 fp32, two MNIST nets from
/// ../shared/data), with respect to the input and to an intermediate tensor, against central
/// finite differences of the forward pass.
///
/// 24 coordinates per tensor are drawn at random among those whose gradient is not tiny
/// (|∂L/∂t| ≥ 5% of the largest), and each must agree to 1e-2 relative. Steps are about 1e-3
/// of the tensor's spread: small enough that few ReLUs change side, large enough that the
/// float32 rounding of the logit stays far below 1e-2 of the difference.
final class WholeModelGradientTests: XCTestCase {
    func check(model name: String, input: Tensor, target: Int, intermediate: String,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let session = try Session(contentsOf: try TestData.model(name))
        let inputName = session.graph.inputs[0].name
        let output = session.graph.outputs[0].name
        let logits = session.logitsBeforeSoftmax(output) ?? output
        let result = try session.gradients([inputName: input], seed: .logit(logits, classes: [target]), wrt: [inputName, intermediate])
        let activation = try session.run([inputName: input], outputs: [intermediate])[intermediate]!

        for (tensorName, value) in [(inputName, input), (intermediate, activation)] {
            let gradient = try XCTUnwrap(result.gradients[tensorName]).floats
            XCTAssertEqual(gradient.count, value.count)
            let values = value.floats
            let spread = values.max()! - values.min()!
            let step = spread * 1e-3
            let largest = gradient.map(abs).max()!
            XCTAssertGreaterThan(largest, 0, "\(name): ∂L/∂\(tensorName) is all zeros", file: file, line: line)
            let candidates = gradient.indices.filter { abs(gradient[$0]) >= 0.05 * largest && values[$0] != 0 }
            var random = GradientCheck.Generator(state: UInt64(values.count))
            for _ in 0..<24 {
                let i = candidates[Int((random.next() + 1) * 0.5 * Float(candidates.count - 1))]
                func logit(_ delta: Float) throws -> Double {
                    var perturbed = values
                    perturbed[i] += delta
                    let tensor = Tensor(shape: value.shape, floats: perturbed)
                    let outputs = tensorName == inputName
                        ? try session.run([inputName: tensor], outputs: [logits])
                        : try session.run([inputName: input], outputs: [logits], hooks: [tensorName: { _, _ in tensor }])
                    return Double(outputs[logits]!.floats[target])
                }
                let numeric = (try logit(step) - logit(-step)) / Double(2 * step)
                let analytic = Double(gradient[i])
                XCTAssertLessThanOrEqual(abs(analytic - numeric), 1e-2 * abs(numeric),
                                         "\(name): ∂\(logits)[\(target)]/∂\(tensorName) at flat index \(i): analytic \(analytic), finite difference \(numeric)",
                                         file: file, line: line)
            }
        }
    }

    func testSqueezeNet() throws {
        var random = GradientCheck.Generator(state: 2024)
        let input = random.tensor([1, 3, 224, 224], scale: 120)
        try check(model: "squeezenet1.1_fp32_from_winml_fp16.onnx", input: input, target: 281, intermediate: "fire7/concat_1")
    }

    func testWinMLMnist() throws {
        var random = GradientCheck.Generator(state: 7)
        let input = Tensor(shape: [1, 1, 28, 28], floats: random.tensor([784]).floats.map { ($0 + 1) * 127.5 })
        try check(model: "winml_mnist.onnx", input: input, target: 3, intermediate: "Plus112_Output_0")
    }

    func testWonnxMnist() throws {
        var random = GradientCheck.Generator(state: 8)
        let input = Tensor(shape: [1, 1, 28, 28], floats: random.tensor([784]).floats.map { ($0 + 1) * 0.5 })
        try check(model: "wonnx_opt-mnist.onnx", input: input, target: 5, intermediate: "Pooling160_Output_0")
    }
}
