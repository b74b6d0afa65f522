import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import ONNXProto
import XCTest

/// Load-time behaviour on hand-made models with closed-form answers: torch-style shape
/// subgraphs folded to constants, external-data initializers, FLOAT16/DOUBLE/INT64 constants,
/// and initializers that are also listed as graph inputs (old IR).
final class GraphLoadingTests: EngineTestCase {
    func valueInfo(_ name: String, _ type: Int32, _ shape: [Int64]?) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = type
        if let shape {
            var s = Onnx_TensorShapeProto()
            s.dim = shape.map { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = $0; return d }
            tensorType.shape = s
        }
        var t = Onnx_TypeProto()
        t.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = t
        return info
    }

    func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        return n
    }

    func intsAttribute(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values
        return a
    }

    func model(_ graph: Onnx_GraphProto, opset: Int64 = 13, ir: Int64 = 8) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = ir
        var o = Onnx_OperatorSetIdProto()
        o.version = opset
        m.opsetImport = [o]
        m.graph = graph
        return m
    }

    func testTorchStyleShapeSubgraphFoldsAtLoad() throws {
        // y = Reshape(relu(x), Concat(Unsqueeze(Gather(Shape(relu(x)), 0)), [-1])) = relu(x) as [N, C·H·W].
        var graph = Onnx_GraphProto()
        graph.input = [valueInfo("x", 1, [2, 3, 2, 2])]
        graph.output = [valueInfo("y", 1, nil)]
        var minusOne = ONNXTensor.encode(Tensor.int64Vector([-1]), name: "minus_one")
        minusOne.name = "minus_one"
        let zero = ONNXTensor.encode(Tensor(shape: [], integers: [0]), name: "zero")
        let axes = ONNXTensor.encode(Tensor.int64Vector([0]), name: "axes")
        graph.initializer = [minusOne, zero, axes]
        var concatAxis = Onnx_AttributeProto()
        concatAxis.name = "axis"
        concatAxis.type = .int
        concatAxis.i = 0
        graph.node = [
            node("Relu", ["x"], ["r"]),
            node("Shape", ["r"], ["s"]),
            node("Gather", ["s", "zero"], ["n"]),
            node("Unsqueeze", ["n", "axes"], ["n1"]),
            node("Concat", ["n1", "minus_one"], ["shape"], [concatAxis]),
            node("Reshape", ["r", "shape"], ["y"]),
        ]
        let loaded = try ONNXImporter.load(data: try model(graph).serializedData())
        let session = try Session(model: loaded)
        XCTAssertEqual(session.graph.nodes.map(\.opType), ["Relu", "Reshape"], "the shape subgraph is folded at load")
        XCTAssertEqual(session.graph.initializers["shape"]?.integers, [2, -1])
        let values = (0..<24).map { Float($0 % 5) - 2 }
        let y = try session.run(["x": Tensor(shape: [2, 3, 2, 2], floats: values)])["y"]!
        XCTAssertEqual(y.shape, [2, 12])
        XCTAssertEqual(y.floats, values.map { max($0, 0) })
    }

    func testExternalDataAndTypedInitializers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // w = [1.5, −2, 0.25] as external float32 at offset 8 of weights.bin; b as FLOAT16; s as DOUBLE.
        var blob = Data(repeating: 0xAB, count: 8)
        for v: Float in [1.5, -2, 0.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { blob.append(contentsOf: $0) } }
        try blob.write(to: directory.appendingPathComponent("weights.bin"))
        var w = Onnx_TensorProto()
        w.name = "w"
        w.dims = [3]
        w.dataType = 1
        w.dataLocation = .external
        w.externalData = [("location", "weights.bin"), ("offset", "8"), ("length", "12")].map {
            var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e
        }
        var b = Onnx_TensorProto()
        b.name = "b"
        b.dims = [3]
        b.dataType = 10
        b.int32Data = [0x3C00, 0xC000, 0x3800]  // 1, −2, 0.5 in half precision
        var s = Onnx_TensorProto()
        s.name = "s"
        s.dims = []
        s.dataType = 11
        s.doubleData = [0.5]
        var graph = Onnx_GraphProto()
        graph.initializer = [w, b, s]
        // Old IR: initializers listed as inputs too; only x is a real input.
        graph.input = [valueInfo("x", 1, [3]), valueInfo("w", 1, [3]), valueInfo("b", 10, [3])]
        graph.output = [valueInfo("y", 1, nil)]
        graph.node = [node("Mul", ["x", "w"], ["xw"]), node("Add", ["xw", "b"], ["z"]), node("Mul", ["z", "s"], ["y"])]
        let url = directory.appendingPathComponent("model.onnx")
        try model(graph, opset: 7, ir: 3).serializedData().write(to: url)
        let session = try Session(contentsOf: url)
        XCTAssertEqual(session.graph.inputs.map(\.name), ["x"])
        let y = try session.run(["x": Tensor(shape: [3], floats: [2, 3, 4])])["y"]!
        // ((2·1.5 + 1), (3·−2 − 2), (4·0.25 + 0.5)) · 0.5
        XCTAssertEqual(y.floats, [2, -4, 0.75])
    }

    func testExternalDataOutsideTheFileIsAnError() throws {
        var w = Onnx_TensorProto()
        w.name = "w"
        w.dims = [3]
        w.dataType = 1
        w.dataLocation = .external
        w.externalData = [("location", "../../etc/passwd")].map {
            var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e
        }
        XCTAssertThrowsError(try ONNXTensor.decode(w)) { error in
            XCTAssertTrue("\(error)".contains("relative path beside the model"), "\(error)")
        }
    }
}
