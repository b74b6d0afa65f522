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
