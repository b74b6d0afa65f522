import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Models that are well-formed protobuf but ask for something impossible: each must end in a
/// CNNVizError that says what is wrong, never in a trap. Hand-made one-node graphs.
final class MalformedModelTests: EngineTestCase {
    /// Runs one node on the given inputs (constants become initializers).
    func runNode(_ op: String, inputs: [(String, Tensor)], attributes: [String: Attribute] = [:], outputs: Int = 1,
                 constants: Set<String> = []) throws -> [Tensor] {
        let node = Node(name: "node", opType: op, inputs: inputs.map(\.0), outputs: (0..<outputs).map { "y\($0)" },
                        attributes: attributes)
        var initializers = [String: Tensor]()
        var graphInputs = [ValueInfo]()
        var feeds = [String: Tensor]()
        for (name, tensor) in inputs {
            if constants.contains(name) {
                initializers[name] = tensor
            } else {
                graphInputs.append(ValueInfo(name: name, elementType: tensor.elementType, shape: nil))
                feeds[name] = tensor
            }
        }
        let graph = Graph(name: op, nodes: [node], initializers: initializers, inputs: graphInputs,
                          outputs: (0..<outputs).map { ValueInfo(name: "y\($0)", elementType: .float32, shape: nil) })
        let session = try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
        let results = try session.run(feeds)
        return (0..<outputs).map { results["y\($0)"]! }
    }

    func expectError(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error mentioning '\(fragment)'", file: file, line: line)
        } catch let error as CNNVizError {
            XCTAssertTrue(error.description.contains(fragment), "'\(error)' should mention '\(fragment)'", file: file, line: line)
        } catch {
            XCTFail("expected CNNVizError, got \(error)", file: file, line: line)
        }
    }

    func testNegativePadsAreRejected() {
        let x = Tensor.zeros([1, 1, 5, 5]), w = Tensor(shape: [1, 1, 3, 3], floats: [Float](repeating: 1, count: 9))
        expectError("pads must be ≥ 0") {
            _ = try runNode("MaxPool", inputs: [("x", x)], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([-1, -1, -1, -1])])
        }
        expectError("pads must be ≥ 0") {
            _ = try runNode("Conv", inputs: [("x", x), ("w", w)], attributes: ["pads": .ints([-1, 0, 0, 0])], constants: ["w"])
        }
    }

    func testImpossibleShapesAreRejected() {
        expectError("negative dimension") {
            _ = try runNode("Expand", inputs: [("x", .zeros([1, 3])), ("s", .int64Vector([-1, 3]))], constants: ["s"])
        }
        expectError("at most one -1") {
            _ = try runNode("Reshape", inputs: [("x", .zeros([2, 3])), ("s", .int64Vector([-1, -1]))], constants: ["s"])
        }
        expectError("more than") {
            _ = try runNode("ConstantOfShape", inputs: [("s", .int64Vector([1 << 40, 1 << 40]))], constants: ["s"])
        }
        expectError("one element type") {
            _ = try runNode("Concat", inputs: [("a", .zeros([2])), ("b", .int64Vector([1, 2]))], attributes: ["axis": .int(0)])
        }
        expectError("finite") {
            _ = try runNode("Resize", inputs: [("x", .zeros([1, 1, 2, 2])), ("roi", Tensor(shape: [0], floats: [])),
                                               ("scales", Tensor(shape: [4], floats: [1, 1, .infinity, 2]))],
                            constants: ["roi", "scales"])
        }
        expectError("group must be ≥ 1") {
            _ = try runNode("ConvTranspose", inputs: [("x", .zeros([1, 1, 3, 3])), ("w", .zeros([1, 1, 3, 3]))],
                            attributes: ["group": .int(0)], constants: ["w"])
        }
    }

    func testEdgeCasesThatAreValid() throws {
        // An empty batch convolves to an empty output of the right shape.
        let y = try runNode("Conv", inputs: [("x", .zeros([0, 3, 8, 8])), ("w", .zeros([4, 3, 3, 3]))], constants: ["w"])[0]
        XCTAssertEqual(y.shape, [0, 4, 6, 6])
        // A step of INT64_MAX takes exactly the first element: x[1::huge] of [10, 11, 12, 13] is [11].
        let sliced = try runNode("Slice", inputs: [("x", Tensor(shape: [4], floats: [10, 11, 12, 13])),
                                                   ("starts", .int64Vector([1])), ("ends", .int64Vector([4])),
                                                   ("axes", .int64Vector([0])),
                                                   ("steps", Tensor(shape: [1], integers: [Int64.max]))],
                                 constants: ["starts", "ends", "axes", "steps"])[0]
        XCTAssertEqual(sliced.floats, [11])
        // ReduceMean of integers is the (truncated) mean, not the sum: mean(1, 2, 6) = 3.
        let mean = try runNode("ReduceMean", inputs: [("x", Tensor(shape: [3], integers: [1, 2, 6]))], attributes: ["keepdims": .int(0)])[0]
        XCTAssertEqual(mean.integers, [3])
    }

    func testFloatToIntegerConversionsSaturate() throws {
        // ONNX leaves out-of-range casts undefined; cnn-viz saturates, and NaN becomes 0, instead of trapping.
        let cast = try runNode("Cast", inputs: [("x", Tensor(shape: [5], floats: [.nan, 1e30, -1e30, 2.7, -2.7]))],
                               attributes: ["to": .int(7)])[0]
        XCTAssertEqual(cast.integers, [0, .max, .min, 2, -2])
        let divided = try runNode("Div", inputs: [("a", Tensor(shape: [2], integers: [6, -6])), ("b", Tensor(shape: [2], floats: [0, 0]))])[0]
        XCTAssertEqual(divided.integers, [.max, .min])
    }

    func testCorruptNpyShapes() {
        for header in ["(3, -2)", "(2L, 3L)", "(4611686018427387904, 4)"] {
            var text = "{'descr': '<f4', 'fortran_order': False, 'shape': \(header), }"
            text += String(repeating: " ", count: 117 - text.utf8.count) + "\n"
            var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(text.utf8.count), 0])
            data.append(contentsOf: Array(text.utf8))
            data.append(Data(repeating: 0, count: 64))
            XCTAssertThrowsError(try NumpyFile.decode(data), header) { error in
                XCTAssertTrue("\(error)".contains("bad .npy shape"), "\(header): \(error)")
            }
        }
    }
}
