import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Quantized models as onnxruntime's quantizer writes them (static QDQ per channel, static QDQ
/// with int8 activations, static QOperator with com.microsoft ops, dynamic), against
/// onnxruntime's own outputs: `scripts/reference/quantized_models.py` builds a small CNN with
/// every op the quantizer rewrites for CNNs, calibrates on real photos, and runs onnxruntime
/// with its integer kernels exact (session.x64quantprecision=1, as on VNNI and ARM CPUs).
/// The output must equal onnxruntime's (QDQ per channel: its groups fused into integer ops as
/// onnxruntime fuses them, `QDQFusion`; QOperator), lie within one quantisation step of it
/// (int8 activations, which onnxruntime also moves to uint8 on x86) or within 1e-6 of its
/// largest value (dynamic, whose output is Float32), and the top-1 class must agree, on each
/// test photo.
final class QuantizedModelTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        var format: String
        var file: String
        var input: String
        var output: String
        var outputStep: Double?
        var opTypes: [String]
    }
    struct Manifest: Decodable { var cases: [Case] }

    func testEveryFormatMatchesOnnxruntimeWithinOneStep() throws {
        let manifest = try TestData.manifest(Manifest.self, at: "quantized/quantized.json")
        XCTAssertEqual(Set(manifest.cases.map(\.format)), ["qdq_per_channel", "qdq_int8", "qoperator", "dynamic"])
        let folder = TestData.referenceDirectory.appendingPathComponent("quantized")
        for item in manifest.cases {
            let session = try Session(contentsOf: folder.appendingPathComponent(item.file))
            let inputs = try NumpyFile.read(contentsOf: folder.appendingPathComponent(item.input))
            let expected = try NumpyFile.read(contentsOf: folder.appendingPathComponent(item.output))
            let classes = expected.shape[1]
            let reference = expected.floats
            let size = inputs.count / inputs.shape[0], values = inputs.floats
            for image in 0..<inputs.shape[0] {
                let x = Tensor(shape: [1] + inputs.shape.dropFirst(), floats: Array(values[(image * size)..<((image + 1) * size)]))
                let y = try session.run([session.graph.inputs[0].name: x])[session.graph.outputs[0].name]!.floats
                let want = Array(reference[(image * classes)..<((image + 1) * classes)])
                let steps: Float = ["qdq_per_channel", "qoperator"].contains(item.format) ? 0 : 1.001
                let tolerance = Float(item.outputStep ?? 0) * steps + 1e-6 * (want.map(abs).max() ?? 0)
                let worst = zip(y, want).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, tolerance, "\(item.name), photo \(image): |cnn-viz − onnxruntime| \(worst), one step \(item.outputStep ?? 0)")
                XCTAssertEqual(y.indices.max { y[$0] < y[$1] }, want.indices.max { want[$0] < want[$1] }, "\(item.name), photo \(image): top-1")
            }
        }
        let qdq = try XCTUnwrap(manifest.cases.first { $0.format == "qdq_per_channel" })
        let fused = try Session(contentsOf: folder.appendingPathComponent(qdq.file)).graph.nodes
        XCTAssertEqual(Set(fused.map(\.opType)).intersection(["Conv", "Gemm", "Add", "Mul", "Sigmoid", "LeakyRelu", "GlobalAveragePool", "AveragePool", "Concat"]), [],
                       "every float op of the QDQ model runs as an integer op")
        let qoperator = try XCTUnwrap(manifest.cases.first { $0.format == "qoperator" })
        for op in ["QLinearConv", "com.microsoft.QLinearAdd", "com.microsoft.QLinearMul", "com.microsoft.QLinearSigmoid",
                   "com.microsoft.QLinearLeakyRelu", "com.microsoft.QLinearConcat", "com.microsoft.QLinearAveragePool",
                   "com.microsoft.QLinearGlobalAveragePool", "com.microsoft.QGemm"] {
            XCTAssertTrue(qoperator.opTypes.contains(op), "the QOperator model exercises \(op)")
        }
        let dynamic = try XCTUnwrap(manifest.cases.first { $0.format == "dynamic" })
        for op in ["DynamicQuantizeLinear", "ConvInteger", "MatMulInteger"] {
            XCTAssertTrue(dynamic.opTypes.contains(op), "the dynamic model exercises \(op)")
        }
    }
}

/// Gradients through a QDQ model (`Session.QuantizedExecution.fakeQuantized`): each
/// QuantizeLinear → DequantizeLinear pair passes the gradient straight through where it does
/// not saturate, as torch's fake_quantize_per_tensor_affine does (the reference, run here).
final class FakeQuantizeTests: XCTestCase {
    func testForwardIsThePairAndTheGradientIsTorchsStraightThroughEstimator() throws {
        let (scale, zero): (Float, Int64) = (0.05, 100)
        let graph = Graph(name: "qdq", nodes: [
            Node(name: "q", opType: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["xq"]),
            Node(name: "dq", opType: "DequantizeLinear", inputs: ["xq", "s", "z"], outputs: ["y"]),
        ], initializers: ["s": .scalar(scale), "z": Tensor(shape: [], integers: [zero], elementType: .uint8)],
           inputs: [ValueInfo(name: "x", elementType: .float32, shape: [1, 64])], outputs: [ValueInfo(name: "y", elementType: .float32, shape: [1, 64])])
        let model = Model(graph: graph, irVersion: 8, opsetVersion: 17, source: "qdq")
        // Values from −7 to 9.4 (the pair holds −5 … 7.75), none near a rounding half.
        let values = (0..<64).map { Float(-7) + Float($0) * 0.26 + 0.013 }
        let x = Tensor(shape: [1, 64], floats: values)
        let integer = try Session(model: model).run(["x": x])["y"]!.floats
        let fake = try Session(model: model, quantization: .fakeQuantized)
        XCTAssertEqual(try fake.run(["x": x])["y"]!.floats, integer, "the fake-quantized pair gives the pair's values")
        let gradient = try fake.gradients(["x": x], seed: GradientSeed(output: "y", kind: .sum), wrt: ["x"]).gradients["x"]!.floats
        let torch = try TestData.python("""
            import torch, json
            x = torch.tensor(\(values), requires_grad=True)
            torch.fake_quantize_per_tensor_affine(x, \(scale), \(zero), 0, 255).sum().backward()
            print(json.dumps(x.grad.tolist()))
            """, modules: ["torch"])
        let expected = try JSONDecoder().decode([Float].self, from: Data(torch.utf8))
        XCTAssertEqual(gradient, expected)
        XCTAssertTrue(expected.contains(0) && expected.contains(1), "the values reach both saturated ends and the inside")
    }
}
