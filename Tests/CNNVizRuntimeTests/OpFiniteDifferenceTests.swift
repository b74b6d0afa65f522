import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The backward rule of every differentiable op (convolutions, pools, normalisations, matrix
/// products, activations, data movement, Resize, and the ops added for real exports) against
/// float64 central differences.
///
/// `scripts/reference/op_gradients.py` builds a one-node model per configuration, evaluates
/// L = Σ r·y in float64 with the ONNX reference evaluator (or torch in float64 where that
/// evaluator lacks a feature), and differentiates every input element with h = 1e-6·max(1, |x|),
/// after checking the float64 forward against onnxruntime's float32 one. Inputs are drawn away
/// from kinks. Here cnn-viz's float32 reverse pass must agree to `Tolerance.gradient`.
final class OpFiniteDifferenceTests: EngineTestCase {
    struct Case: Decodable {
        var name: String
        var opType: String
        var model: String
        var inputs: [String: String]
        var output: String
        var cotangent: String
        var gradients: [String: String]
        var evaluator: String
    }
    struct Cases: Decodable { var cases: [Case] }

    static let requiredOps: Set<String> = [
        "LSTM", "GRU", "RNN", "Where", "Tile", "Trilu", "CumSum", "TopK", "GatherElements", "GatherND", "ScatterElements", "ScatterND",
        "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "Mod",
        "LayerNormalization", "GroupNormalization", "MeanVarianceNormalization", "LpNormalization", "DepthToSpace", "SpaceToDepth",
        "Einsum", "Sin", "Cos", "Softsign", "Celu", "ThresholdedRelu", "GridSample", "AffineGrid", "RoiAlign", "Col2Im", "CenterCropPad",
        // The ops before real exports.
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LRN", "BatchNormalization",
        "InstanceNormalization", "Gemm", "MatMul", "Softmax", "LogSoftmax", "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Sum", "Mean",
        "Max", "Min", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Gelu", "Mish",
        "Erf", "Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Identity", "Clip", "Dropout", "Concat", "Split", "Slice", "Transpose",
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Expand", "Gather", "Pad", "Resize", "Upsample", "ReduceSum", "ReduceMean", "ReduceMax",
    ]

    func testEveryOpMatchesFloat64FiniteDifferences() throws {
        let cases = try TestData.manifest(Cases.self, at: "op-gradients/cases.json").cases
        XCTAssertEqual(OpFiniteDifferenceTests.requiredOps.subtracting(cases.map(\.opType)), [], "ops without a finite-difference case")
        for testCase in cases {
            let session = try Session(contentsOf: URL(fileURLWithPath: testCase.model))
            var feeds = [String: Tensor]()
            for (name, path) in testCase.inputs { feeds[name] = try NumpyFile.read(contentsOf: URL(fileURLWithPath: path)) }
            let cotangent = try NumpyFile.read(contentsOf: URL(fileURLWithPath: testCase.cotangent))
            let names = testCase.gradients.keys.sorted()
            let result = try session.gradients(feeds, seed: GradientSeed(output: testCase.output, kind: .cotangent(cotangent)), wrt: names)
            for name in names {
                let expected = try NumpyFile.read(contentsOf: URL(fileURLWithPath: testCase.gradients[name]!))
                guard let actual = result.gradients[name] else { XCTFail("\(testCase.name): no gradient for \(name)"); continue }
                XCTAssertEqual(actual.shape, expected.shape, "\(testCase.name) ∂L/∂\(name) shape")
                assertClose(actual, expected, .gradient, "\(testCase.name) (\(testCase.opType), \(testCase.evaluator)) ∂L/∂\(name)")
            }
        }
    }
}
