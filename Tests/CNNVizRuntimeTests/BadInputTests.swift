import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import ONNXProto
import XCTest

/// Bad input gives a typed error that says what is wrong, and the CLI exits non-zero; nothing crashes.
final class BadInputTests: EngineTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// A one-node model built in memory.
    func model(opType: String, opset: Int64 = 13) throws -> Data {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = "mystery_node"
        node.input = ["x"]
        node.output = ["y"]
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = 1
        var shape = Onnx_TensorShapeProto()
        shape.dim = [Int64(2), 3].map { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = $0; return d }
        tensorType.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type = type
        var output = input
        output.name = "y"
        var graph = Onnx_GraphProto()
        graph.node = [node]
        graph.input = [input]
        graph.output = [output]
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.version = opset
        model.opsetImport = [opsetID]
        model.graph = graph
        return try model.serializedData()
    }

    func testTruncatedModel() throws {
        let real = try Data(contentsOf: try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx"))
        let url = scratch.appendingPathComponent("truncated.onnx")
        try real.prefix(real.count / 2).write(to: url)
        expectError(.corruptFile, containing: ["truncated.onnx", "truncated or corrupt"]) { _ = try Session(contentsOf: url) }
    }

    func testNonONNXFile() throws {
        let url = scratch.appendingPathComponent("photo.onnx")
        try Data(contentsOf: try TestData.image("skimage_coffee.png")).write(to: url)
        expectError(.corruptFile, containing: ["photo.onnx"]) { _ = try Session(contentsOf: url) }
        let empty = scratch.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        expectError(.corruptFile, containing: ["empty"]) { _ = try Session(contentsOf: empty) }
    }

    func testUnknownOperator() throws {
        let url = scratch.appendingPathComponent("unknown-op.onnx")
        try model(opType: "FrobnicateNd", opset: 13).write(to: url)
        expectError(.unsupportedOperator, containing: ["FrobnicateNd", "mystery_node", "opset 13", "supported ops"]) {
            _ = try Session(contentsOf: url)
        }
    }

    func testWrongInputShape() throws {
        let url = scratch.appendingPathComponent("relu.onnx")
        try model(opType: "Relu").write(to: url)
        let session = try Session(contentsOf: url)
        expectError(.shapeMismatch, containing: ["'x'", "[2,3]", "[3, 2]"]) {
            _ = try session.run(["x": Tensor.zeros([3, 2])])
        }
        // And the right shape runs: Relu of a hand-made input.
        let y = try session.run(["x": Tensor(shape: [2, 3], floats: [-1, 2, -3, 4, 0, -0.5])])["y"]!
        XCTAssertEqual(y.floats, [0, 2, 0, 4, 0, 0])
    }

    func testUnknownLayerNameSuggestsNeighbours() throws {
        let url = scratch.appendingPathComponent("relu.onnx")
        try model(opType: "Relu").write(to: url)
        let session = try Session(contentsOf: url)
        expectError(.unknownTensor, containing: ["'z'", "nearest names: "]) { _ = try session.run(["x": .zeros([2, 3])], outputs: ["z"]) }
    }

    func testCommandLineExitsNonZeroWithAMessage() throws {
        let url = scratch.appendingPathComponent("unknown-op.onnx")
        try model(opType: "FrobnicateNd").write(to: url)
        let tensor = scratch.appendingPathComponent("x.npy")
        try NumpyFile.write(.zeros([2, 3]), to: tensor)
        let out = scratch.appendingPathComponent("out")
        let (status, _, message) = try TestData.runBinary(["run", "--model", url.path, "--tensor", tensor.path, "--out", out.path, "--json"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(message.contains("FrobnicateNd"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("y.npy").path), "nothing half-written")
    }
}
