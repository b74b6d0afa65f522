import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The reverse pass as a whole: which nodes it visits, gradient hooks and rule overrides
/// (guided backprop, deconvnet) in closed form, batched seeds, and clean errors.
final class BackwardEngineTests: EngineTestCase {
    /// y = relu(x) · w, so with L = Σ y the gradient arriving at relu's output is w.
    func reluTimesWeights() throws -> Session {
        let graph = Graph(name: "relu-mul", nodes: [
            Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["r"]),
            Node(name: "mul", opType: "Mul", inputs: ["r", "w"], outputs: ["y"]),
        ], initializers: ["w": Tensor(shape: [4], floats: [2, -3, 5, -7])],
           inputs: [ValueInfo(name: "x", elementType: .float32, shape: [4])],
           outputs: [ValueInfo(name: "y", elementType: .float32, shape: [4])])
        return try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
    }

    let x = Tensor(shape: [4], floats: [1, 1, -1, -1])

    func testReluRulesInClosedForm() throws {
        let session = try reluTimesWeights()
        let seed = GradientSeed(output: "y", kind: .sum)
        let expected: [ReluGradientMode: [Float]] = [
            .standard: [2, -3, 0, 0],  // w·[x > 0]
            .guided: [2, 0, 0, 0],  // w·[x > 0]·[w > 0]
            .deconvnet: [2, 0, 5, 0],  // w·[w > 0]
        ]
        for (mode, values) in expected {
            let result = try session.gradients(["x": x], seed: seed, wrt: ["x"], rules: mode.rules)
            XCTAssertEqual(result.gradients["x"]?.floats, values, "\(mode)")
        }
    }

    func testGradientHooksObserveAndReplace() throws {
        let session = try reluTimesWeights()
        var seen: [Float] = []
        let result = try session.gradients(["x": x], seed: GradientSeed(output: "y", kind: .sum), wrt: ["x", "r"],
                                           gradientHooks: ["r": { _, g in seen = g.floats; return Tensor(shape: [4], floats: [10, 10, 10, 10]) }])
        XCTAssertEqual(seen, [2, -3, 5, -7])
        XCTAssertEqual(result.gradients["r"]?.floats, [10, 10, 10, 10])
        XCTAssertEqual(result.gradients["x"]?.floats, [10, 10, 0, 0])
        // A rule override for one node by name.
        let doubled = try session.gradients(["x": x], seed: GradientSeed(output: "y", kind: .sum), wrt: ["x"],
                                            rules: ["relu": { _, context in [context.outputGradients[0]!.floats.map { $0 * 2 }].map { Tensor(shape: [4], floats: $0) } }])
        XCTAssertEqual(doubled.gradients["x"]?.floats, [4, -6, 10, -14])
    }

    /// Grad-CAM at SqueezeNet's last fire module: the reverse pass visits exactly the nodes
    /// between fire9/concat and the logits, and none before.
    func testOnlyTheNodesBetweenLayerAndSeedAreVisited() throws {
        let session = try Session(contentsOf: try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx"))
        var random = SeededRandom(state: 3)
        let input = random.tensor([1, 3, 224, 224], scale: 100)
        let layer = "fire9/concat_1", logits = try XCTUnwrap(session.logitsBeforeSoftmax("softmaxout_1"))
        let result = try session.gradients([session.graph.inputs[0].name: input], seed: .logit(logits, classes: [281]), wrt: [layer])
        let nodes = session.graph.nodes
        let layerIndex = try XCTUnwrap(nodes.firstIndex { $0.outputs.contains(layer) })
        let logitsIndex = try XCTUnwrap(nodes.firstIndex { $0.outputs.contains(logits) })
        let between = Set(nodes[(layerIndex + 1)...logitsIndex].map(\.location))
        XCTAssertEqual(Set(result.visitedNodes), between)
        XCTAssertEqual(result.visitedNodes.count, between.count)
        for node in nodes[...layerIndex] {
            XCTAssertFalse(result.visitedNodes.contains(node.location), "visited \(node.location), which comes before \(layer)")
        }
        XCTAssertEqual(result.gradients[layer]?.shape, [1, 512, 13, 13])
    }

    /// N inputs with N different target classes in one pass equal N separate passes.
    func testBatchedSeedsMatchSeparatePasses() throws {
        let model = try NetworkBuilder(seed: 4).conv(out: 4, kernel: 3, pad: 1).relu().maxPool(kernel: 2).flatten().dense(out: 3)
            .build(inputShape: [nil, 2, 6, 6])
        let session = try Session(model: model)
        var random = SeededRandom(state: 9)
        let batch = random.tensor([3, 2, 6, 6])
        let classes = [2, 0, 1]
        let output = session.graph.outputs[0].name, input = session.graph.inputs[0].name
        let together = try session.gradients([input: batch], seed: .logit(output, classes: classes), wrt: [input])
        let values = batch.floats, gradient = try XCTUnwrap(together.gradients[input]).floats
        for n in 0..<3 {
            let item = Tensor(shape: [1, 2, 6, 6], floats: Array(values[(n * 72)..<((n + 1) * 72)]))
            let alone = try session.gradients([input: item], seed: .logit(output, classes: [classes[n]]), wrt: [input])
            let expected = try XCTUnwrap(alone.gradients[input]).floats
            XCTAssertEqual(Array(gradient[(n * 72)..<((n + 1) * 72)]), expected, "batch item \(n)")
        }
    }

    func testBadRequestsFailWithTheNames() throws {
        let session = try reluTimesWeights()
        let sum = GradientSeed(output: "y", kind: .sum)
        XCTAssertThrowsError(try session.gradients(["x": x], seed: sum, wrt: ["rr"])) { error in
            let error = error as! CNNVizError
            XCTAssertEqual(error.code, .unknownTensor)
            XCTAssertTrue(error.message.contains("'rr'") && error.message.contains("r"), error.message)
        }
        XCTAssertThrowsError(try session.gradients(["x": x], seed: .logit("y", classes: [4]), wrt: ["x"])) { error in
            XCTAssertTrue("\(error)".contains("class index 4 is out of range") && "\(error)".contains("0..<4"), "\(error)")
        }
        XCTAssertThrowsError(try session.gradients(["x": x], seed: GradientSeed(output: "r", kind: .sum), wrt: ["w"])) { error in
            XCTAssertTrue("\(error)".contains("'w' does not influence 'r'"), "\(error)")
        }
        // x → Cast(int64) → Cast(float) → y: no derivative through the integers.
        let graph = Graph(name: "cast", nodes: [
            Node(name: "to_int", opType: "Cast", inputs: ["x"], outputs: ["i"], attributes: ["to": .int(7)]),
            Node(name: "to_float", opType: "Cast", inputs: ["i"], outputs: ["y"], attributes: ["to": .int(1)]),
        ], initializers: [:], inputs: [ValueInfo(name: "x", elementType: .float32, shape: [4])],
           outputs: [ValueInfo(name: "y", elementType: .float32, shape: [4])])
        let casts = try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
        XCTAssertThrowsError(try casts.gradients(["x": x], seed: GradientSeed(output: "y", kind: .sum), wrt: ["x"])) { error in
            XCTAssertTrue("\(error)".contains("integer tensor 'i'") && "\(error)".contains("to_float"), "\(error)")
        }
    }
}
