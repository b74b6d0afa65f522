import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The pieces training is built from, each against a reference it does not share code with:
/// - losses against NumPy (a different formula where one exists), closed forms, and central
///   finite differences of the loss itself;
/// - SGD, Adam and AdamW against a NumPy re-implementation of the update rules that PyTorch
///   documents for torch.optim.SGD / Adam / AdamW (torch itself is not installed);
/// - the exporter against onnxruntime and the onnx package reading what it wrote, and against
///   ONNXImporter re-reading it bit for bit;
/// - NetworkBuilder's generator against a Python SplitMix64.
final class TrainingComponentsTests: EngineTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    // MARK: - Helpers

    func python(_ script: String, modules: [String] = ["numpy"], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try TestData.python(script, modules: modules, file: file, line: line)
    }

    /// A Python script's last stdout line, parsed as a JSON object of number lists.
    func pythonJSON(_ script: String, modules: [String] = ["numpy"], file: StaticString = #filePath, line: UInt = #line) throws -> [String: [Double]] {
        let output = try python(script, modules: modules, file: file, line: line)
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONDecoder().decode([String: [Double]].self, from: Data(last.utf8))
    }

    /// A Python list literal of Float32 values (shortest round-trip decimal; NumPy rounds it back to the same float32).
    func literal(_ values: [Float]) -> String { "[" + values.map { "\($0)" }.joined(separator: ", ") + "]" }

    /// Every |actual − expected| ≤ absolute + relative·|expected|; reports the worst element.
    func assertClose(_ actual: [Float], _ expected: [Double], absolute: Double, relative: Double, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): element count", file: file, line: line)
        guard actual.count == expected.count else { return }
        var worstExcess = 0.0, worst = -1
        for i in actual.indices {
            let excess = abs(Double(actual[i]) - expected[i]) - (absolute + relative * abs(expected[i]))
            if !(excess <= worstExcess) { worstExcess = excess; worst = i }
        }
        if worst >= 0 {
            XCTFail("\(what): element \(worst) is \(actual[worst]), expected \(expected[worst]) (bound \(absolute) + \(relative)·|expected|)",
                    file: file, line: line)
        }
    }

    func uniform(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = NetworkBuilder.SplitMix64(seed: seed)
        return (0..<count).map { _ in (Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }

    /// Central differences (f(x + h) − f(x − h)) / (x₊ − x₋) of a Float loss, per element,
    /// dividing by the step actually taken after rounding x ± h to Float.
    func finiteDifferences(_ x: [Float], step h: Float, _ loss: ([Float]) throws -> Float) rethrows -> [Double] {
        try x.indices.map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (Double(try loss(plus)) - Double(try loss(minus))) / (Double(plus[i]) - Double(minus[i]))
        }
    }

    // MARK: - Softmax cross-entropy

    func testSoftmaxCrossEntropyMatchesNumpy() throws {
        // Rows 2 and 3 overflow a naive exp: ±1000 and all −500.
        let values = uniform(10, seed: 1, scale: 3) + [1000, -1000, 0, 999, 3] + [Float](repeating: -500, count: 5)
        let labels = [0, 4, 3, 2]
        let logits = Tensor(shape: [4, 5], floats: values)
        let (loss, gradient) = try Loss.softmaxCrossEntropy(logits: logits, labels: labels)
        let reference = try pythonJSON("""
        import numpy as np, json
        x = np.array(\(literal(values)), dtype=np.float32).astype(np.float64).reshape(4, 5)
        y = np.array(\(labels))
        m = x.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(x - m).sum(axis=1))
        loss = np.mean(lse - x[np.arange(4), y])
        grad = (np.exp(x - lse[:, None]) - np.eye(5)[y]) / 4
        print(json.dumps({"loss": [float(loss)], "gradient": grad.ravel().tolist()}))
        """)
        assertClose([loss], reference["loss"] ?? [], absolute: 0, relative: 1e-6, "loss")
        assertClose(gradient.floats, reference["gradient"] ?? [], absolute: 1e-8, relative: 1e-5, "gradient")
        XCTAssertEqual(gradient.shape, [4, 5])
    }

    func testSoftmaxCrossEntropyClosedForms() throws {
        // Equal logits: loss = log C, gradient = (1/C − onehot)/N.
        let (uniformLoss, uniformGradient) = try Loss.softmaxCrossEntropy(logits: Tensor(shape: [2, 4], floats: [Float](repeating: 7, count: 8)),
                                                                          labels: [1, 3])
        XCTAssertEqual(uniformLoss, Float(log(4.0)), accuracy: 1e-6)
        assertClose(uniformGradient.floats, [0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375],
                    absolute: 1e-7, relative: 0, "uniform gradient")
        // A margin of 1000: the right label costs nothing, the wrong one costs the margin.
        let (right, _) = try Loss.softmaxCrossEntropy(logits: Tensor(shape: [1, 2], floats: [1000, 0]), labels: [0])
        let (wrong, wrongGradient) = try Loss.softmaxCrossEntropy(logits: Tensor(shape: [1, 2], floats: [1000, 0]), labels: [1])
        XCTAssertEqual(right, 0)
        XCTAssertEqual(wrong, 1000)
        XCTAssertEqual(wrongGradient.floats, [1, -1])
    }

    func testSoftmaxCrossEntropyGradientMatchesFiniteDifferences() throws {
        let x = uniform(12, seed: 2, scale: 2)
        let labels = [3, 0, 2]
        let (_, gradient) = try Loss.softmaxCrossEntropy(logits: Tensor(shape: [3, 4], floats: x), labels: labels)
        let numeric = try finiteDifferences(x, step: 1e-2) {
            try Loss.softmaxCrossEntropy(logits: Tensor(shape: [3, 4], floats: $0), labels: labels).loss
        }
        assertClose(gradient.floats, numeric, absolute: 1e-4, relative: 1e-3, "softmax cross-entropy gradient vs finite differences")
    }

    func testSoftmaxCrossEntropyRejectsBadInput() {
        let logits = Tensor(shape: [2, 5], floats: [Float](repeating: 0, count: 10))
        expectError(.invalidArgument, containing: ["row 1", "label 7", "5 classes"]) {
            _ = try Loss.softmaxCrossEntropy(logits: logits, labels: [0, 7])
        }
        expectError(.invalidArgument, containing: ["row 0", "label -1"]) {
            _ = try Loss.softmaxCrossEntropy(logits: logits, labels: [-1, 0])
        }
        expectError(.shapeMismatch, containing: ["2 rows", "3 labels"]) {
            _ = try Loss.softmaxCrossEntropy(logits: logits, labels: [0, 1, 2])
        }
        expectError(.shapeMismatch, containing: ["[N, C]", "[2, 5, 1]"]) {
            _ = try Loss.softmaxCrossEntropy(logits: logits.reshaped([2, 5, 1]), labels: [0, 1])
        }
        expectError(.invalidArgument, containing: ["empty"]) {
            _ = try Loss.softmaxCrossEntropy(logits: Tensor(shape: [0, 5], floats: []), labels: [])
        }
        var values = [Float](repeating: 0, count: 10)
        values[7] = .nan
        expectError(.invalidArgument, containing: ["row 1, column 2", "nan"]) {
            _ = try Loss.softmaxCrossEntropy(logits: Tensor(shape: [2, 5], floats: values), labels: [0, 1])
        }
    }

    // MARK: - Binary cross-entropy with logits

    func testBinaryCrossEntropyMatchesNumpy() throws {
        let x = uniform(6, seed: 3, scale: 4) + [100, -100, 20, -20, 0, 1e-3]
        let t: [Float] = [0, 1, 0.3, 0.7, 1, 0, 0, 1, 1, 0, 0.5, 0.25]
        let (loss, gradient) = try Loss.binaryCrossEntropyWithLogits(logits: Tensor(shape: [2, 3, 2], floats: x),
                                                                     targets: Tensor(shape: [2, 3, 2], floats: t))
        // A different formula: log(1 + e^x) − x·t through logaddexp, σ through tanh.
        let reference = try pythonJSON("""
        import numpy as np, json
        x = np.array(\(literal(x)), dtype=np.float32).astype(np.float64)
        t = np.array(\(literal(t)), dtype=np.float32).astype(np.float64)
        loss = np.mean(np.logaddexp(0.0, x) - x * t)
        grad = (0.5 * (1.0 + np.tanh(x / 2.0)) - t) / x.size
        print(json.dumps({"loss": [float(loss)], "gradient": grad.tolist()}))
        """)
        assertClose([loss], reference["loss"] ?? [], absolute: 0, relative: 1e-6, "loss")
        assertClose(gradient.floats, reference["gradient"] ?? [], absolute: 1e-9, relative: 1e-5, "gradient")
    }

    func testBinaryCrossEntropyClosedFormsAndFiniteDifferences() throws {
        // x = 0: every element costs log 2 whatever the target; the gradient is (½ − t)/count.
        let (zeroLoss, zeroGradient) = try Loss.binaryCrossEntropyWithLogits(logits: Tensor.zeros([4]),
                                                                             targets: Tensor(shape: [4], floats: [0, 1, 0.5, 0.2]))
        XCTAssertEqual(zeroLoss, Float(log(2.0)), accuracy: 1e-7)
        assertClose(zeroGradient.floats, [0.125, -0.125, 0, 0.075], absolute: 1e-8, relative: 0, "gradient at x = 0")

        let x = uniform(8, seed: 4, scale: 3)
        let t = uniform(8, seed: 5).map { ($0 + 1) / 2 }
        let targets = Tensor(shape: [2, 4], floats: t)
        let (_, gradient) = try Loss.binaryCrossEntropyWithLogits(logits: Tensor(shape: [2, 4], floats: x), targets: targets)
        let numeric = try finiteDifferences(x, step: 1e-2) {
            try Loss.binaryCrossEntropyWithLogits(logits: Tensor(shape: [2, 4], floats: $0), targets: targets).loss
        }
        assertClose(gradient.floats, numeric, absolute: 5e-5, relative: 1e-3, "BCE gradient vs finite differences")
    }

    func testBinaryCrossEntropyRejectsBadInput() {
        expectError(.shapeMismatch, containing: ["[2, 3]", "[3, 2]"]) {
            _ = try Loss.binaryCrossEntropyWithLogits(logits: Tensor.zeros([2, 3]), targets: Tensor.zeros([3, 2]))
        }
        expectError(.invalidArgument, containing: ["flat index 1", "inf"]) {
            _ = try Loss.binaryCrossEntropyWithLogits(logits: Tensor(shape: [2], floats: [0, .infinity]), targets: Tensor.zeros([2]))
        }
        expectError(.invalidArgument, containing: ["empty"]) {
            _ = try Loss.binaryCrossEntropyWithLogits(logits: Tensor.zeros([0]), targets: Tensor.zeros([0]))
        }
    }

    // MARK: - Optimizers

    /// Two parameters and six steps of gradients; "b" gets no gradient at step 3 (index 2).
    func optimizerCase() -> (parameters: [String: Tensor], gradients: [[String: Tensor]]) {
        let parameters = ["a": Tensor(shape: [2, 3], floats: uniform(6, seed: 10)), "b": Tensor(shape: [4], floats: uniform(4, seed: 11, scale: 2))]
        let gradients: [[String: Tensor]] = (0..<6).map { step in
            var grads = ["a": Tensor(shape: [2, 3], floats: uniform(6, seed: 100 + UInt64(step)))]
            if step != 2 { grads["b"] = Tensor(shape: [4], floats: uniform(4, seed: 200 + UInt64(step), scale: 0.5)) }
            return grads
        }
        return (parameters, gradients)
    }

    /// The NumPy reference: `update` is the body of one parameter's step, given p, g, the state dict st and k.
    func referenceTrajectory(_ update: String) throws -> [String: [Double]] {
        let (parameters, gradients) = optimizerCase()
        let steps = gradients.map { grads in
            "{" + grads.keys.sorted().map { "\"\($0)\": np.array(\(literal(grads[$0]!.floats)), dtype=np.float32).astype(np.float64)" }
                .joined(separator: ", ") + "}"
        }
        return try pythonJSON("""
        import numpy as np, json
        params = {"a": np.array(\(literal(parameters["a"]!.floats)), dtype=np.float32).astype(np.float64),
                  "b": np.array(\(literal(parameters["b"]!.floats)), dtype=np.float32).astype(np.float64)}
        steps = [\(steps.joined(separator: ",\n         "))]
        state = {}
        out = {}
        for i, grads in enumerate(steps):
            for k in sorted(grads):
                p, g = params[k], grads[k]
                st = state.setdefault(k, {})
        \(update.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n"))
                params[k] = p
            for k in params:
                out[k + str(i)] = params[k].tolist()
        print(json.dumps(out))
        """)
    }

    func assertTrajectory<O: Optimizer>(_ optimizer: O, matches reference: [String: [Double]], _ what: String,
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        var optimizer = optimizer
        let trajectory = optimizerCase()
        var parameters = trajectory.parameters
        for (step, grads) in trajectory.gradients.enumerated() {
            try optimizer.step(&parameters, gradients: grads)
            for name in ["a", "b"] {
                assertClose(parameters[name]!.floats, reference["\(name)\(step)"] ?? [], absolute: 2e-6, relative: 1e-5,
                            "\(what): parameter \(name) after step \(step + 1)", file: file, line: line)
            }
        }
    }

    /// torch.optim.SGD's documented algorithm (dampening 0).
    static let sgdReference = """
    d = g + wd * p
    if "buf" not in st:
        st["buf"] = d.copy()
    else:
        st["buf"] = mu * st["buf"] + d
    d = d + mu * st["buf"] if nesterov else st["buf"]
    p = p - lr * d
    """

    func testSGDWithMomentumAndWeightDecayMatchesPyTorchFormula() throws {
        for nesterov in [false, true] {
            let reference = try referenceTrajectory("lr, mu, wd, nesterov = 0.1, 0.9, 0.01, \(nesterov ? "True" : "False")\n" + Self.sgdReference)
            try assertTrajectory(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: nesterov), matches: reference,
                                 "SGD nesterov=\(nesterov)")
        }
    }

    /// torch.optim.Adam / AdamW's documented algorithm (amsgrad off, maximize off).
    static let adamReference = """
    st["t"] = st.get("t", 0) + 1
    t = st["t"]
    if decoupled:
        p = p * (1 - lr * wd)
    else:
        g = g + wd * p
    st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
    denom = np.sqrt(st["v"]) / np.sqrt(1 - b2 ** t) + eps
    p = p - (lr / (1 - b1 ** t)) * st["m"] / denom
    """

    func testAdamAndAdamWMatchPyTorchFormula() throws {
        // ε = 1e-2 is comparable to √v here, so adding it before or after the bias correction shows.
        for (decoupled, epsilon) in [(false, "1e-8"), (true, "1e-8"), (false, "1e-2"), (true, "1e-2")] {
            let reference = try referenceTrajectory(
                "lr, b1, b2, eps, wd, decoupled = 0.01, 0.9, 0.999, \(epsilon), 0.1, \(decoupled ? "True" : "False")\n" + Self.adamReference)
            try assertTrajectory(Adam(learningRate: 0.01, epsilon: Float(epsilon)!, weightDecay: 0.1, decoupled: decoupled), matches: reference,
                                 "\(decoupled ? "AdamW" : "Adam") ε=\(epsilon)")
        }
    }

    func testOptimizerClosedForms() throws {
        // SGD, p = 1, g = 0.5, η = 0.1, μ = 0.9: v₁ = g → p = 0.95; v₂ = 0.9·0.5 + 0.5 = 0.95 → p = 0.855.
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        var parameters = ["w": Tensor(shape: [1], floats: [1])]
        try sgd.step(&parameters, gradients: ["w": Tensor(shape: [1], floats: [0.5])])
        XCTAssertEqual(parameters["w"]!.floats[0], 0.95, accuracy: 1e-7)
        try sgd.step(&parameters, gradients: ["w": Tensor(shape: [1], floats: [0.5])])
        XCTAssertEqual(parameters["w"]!.floats[0], 0.855, accuracy: 1e-7)
        // Adam's first step is η·g/(|g| + ε): a step of η against the gradient's sign, whatever its size.
        var adam = Adam(learningRate: 0.1)
        parameters = ["w": Tensor(shape: [3], floats: [1, 1, 1])]
        try adam.step(&parameters, gradients: ["w": Tensor(shape: [3], floats: [0.5, -3e-3, 200])])
        assertClose(parameters["w"]!.floats, [0.9, 1.1, 0.9], absolute: 1e-6, relative: 0, "Adam first step")
        // AdamW with a zero gradient only decays: p·(1 − η·λ).
        var adamW = Adam(learningRate: 0.1, weightDecay: 0.5, decoupled: true)
        parameters = ["w": Tensor(shape: [2], floats: [2, -4])]
        try adamW.step(&parameters, gradients: ["w": Tensor.zeros([2])])
        assertClose(parameters["w"]!.floats, [1.9, -3.8], absolute: 1e-6, relative: 0, "AdamW decay only")
    }

    func testOptimizersRejectBadGradientsAndChangeNothing() throws {
        let original = ["conv1.weight": Tensor(shape: [2, 2], floats: [1, 2, 3, 4]), "conv1.bias": Tensor(shape: [2], floats: [5, 6])]
        var optimizers: [any Optimizer] = [SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4), Adam(), Adam(weightDecay: 0.01, decoupled: true)]
        for index in optimizers.indices {
            var parameters = original
            expectError(.shapeMismatch, containing: ["conv1.weight", "[4]", "[2, 2]"]) {
                try optimizers[index].step(&parameters, gradients: ["conv1.bias": Tensor.zeros([2]), "conv1.weight": Tensor.zeros([4])])
            }
            expectError(.unknownTensor, containing: ["conv9.weight", "conv1.bias, conv1.weight"]) {
                try optimizers[index].step(&parameters, gradients: ["conv1.bias": Tensor.zeros([2]), "conv9.weight": Tensor.zeros([2])])
            }
            XCTAssertEqual(parameters["conv1.bias"]!.floats, [5, 6], "a throwing step changes nothing")
            XCTAssertEqual(parameters["conv1.weight"]!.floats, [1, 2, 3, 4])
            // A parameter without a gradient is left alone, bit for bit.
            try optimizers[index].step(&parameters, gradients: ["conv1.bias": Tensor(shape: [2], floats: [1, -1])])
            XCTAssertEqual(parameters["conv1.weight"]!.floats.map(\.bitPattern), original["conv1.weight"]!.floats.map(\.bitPattern))
            XCTAssertNotEqual(parameters["conv1.bias"]!.floats, [5, 6])
        }
        var parameters = original
        var badAdam = Adam(beta1: 1)
        expectError(.invalidArgument, containing: ["beta1", "[0, 1)"]) {
            try badAdam.step(&parameters, gradients: [:])
        }
        var badSGD = SGD(learningRate: 0.1, nesterov: true)
        expectError(.invalidArgument, containing: ["Nesterov", "momentum"]) {
            try badSGD.step(&parameters, gradients: [:])
        }
        var negative = SGD(learningRate: -1)
        expectError(.invalidArgument, containing: ["learningRate", "-1"]) {
            try negative.step(&parameters, gradients: [:])
        }
    }

    // MARK: - NetworkBuilder

    func smallNetwork(seed: UInt64 = 7) -> NetworkBuilder {
        NetworkBuilder(seed: seed)
            .conv(out: 8, kernel: 3, pad: 1).relu().maxPool(kernel: 2)
            .conv(out: 16, kernel: 3, stride: 2).relu()
            .globalAveragePool().flatten().dense(out: 10)
    }

    func testNetworkBuilderNamesShapesAndInitialisation() throws {
        let model = try smallNetwork().build(inputName: "image", inputShape: [nil, 3, 16, 16], outputName: "logits")
        let graph = model.graph
        XCTAssertEqual(graph.nodes.map(\.name), ["conv1", "relu1", "pool1", "conv2", "relu2", "gap1", "flatten1", "dense1"])
        XCTAssertEqual(graph.nodes.map(\.opType), ["Conv", "Relu", "MaxPool", "Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"])
        XCTAssertEqual(graph.nodes.map { $0.outputs[0] }, ["conv1", "relu1", "pool1", "conv2", "relu2", "gap1", "flatten1", "logits"])
        XCTAssertEqual(graph.nodes[0].inputs, ["image", "conv1.weight", "conv1.bias"])
        XCTAssertEqual(graph.initializers.mapValues(\.shape), [
            "conv1.weight": [8, 3, 3, 3], "conv1.bias": [8], "conv2.weight": [16, 8, 3, 3], "conv2.bias": [16],
            "dense1.weight": [10, 16], "dense1.bias": [10],
        ])
        XCTAssertEqual(graph.outputs.first?.shape, [nil, 10])
        XCTAssertEqual(model.opsetVersion, 13)
        XCTAssertEqual(model.irVersion, 8)
        // He-uniform: |w| < √(6/fan_in) and Var(w) ≈ 2/fan_in; biases zero.
        for (name, fanIn) in [("conv1.weight", 27), ("conv2.weight", 72), ("dense1.weight", 16)] {
            let w = graph.initializers[name]!.floats.map(Double.init)
            let bound = (6.0 / Double(fanIn)).squareRoot()
            XCTAssertLessThanOrEqual(w.map(abs).max() ?? 0, bound, name)
            let mean = w.reduce(0, +) / Double(w.count)
            let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)
            XCTAssertEqual(variance, 2 / Double(fanIn), accuracy: 0.25 * 2 / Double(fanIn), name)
        }
        for name in ["conv1.bias", "conv2.bias", "dense1.bias"] { XCTAssertEqual(Set(graph.initializers[name]!.floats), [0]) }
        // The same seed gives bit-identical weights, another seed other weights.
        let again = try smallNetwork().build(inputName: "image", inputShape: [nil, 3, 16, 16], outputName: "logits")
        let other = try smallNetwork(seed: 8).build(inputName: "image", inputShape: [nil, 3, 16, 16], outputName: "logits")
        for name in graph.initializers.keys {
            XCTAssertEqual(again.graph.initializers[name]!.floats.map(\.bitPattern), graph.initializers[name]!.floats.map(\.bitPattern), name)
        }
        XCTAssertNotEqual(other.graph.initializers["conv1.weight"]!.floats, graph.initializers["conv1.weight"]!.floats)
        // It runs, with any batch size.
        let session = try Session(model: model)
        let output = try session.run(["image": Tensor(shape: [2, 3, 16, 16], floats: uniform(2 * 3 * 256, seed: 9))])
        XCTAssertEqual(output["logits"]?.shape, [2, 10])
    }

    func testSplitMix64MatchesPythonImplementation() throws {
        var generator = NetworkBuilder.SplitMix64(seed: 1_234_567)
        let ours = (0..<5).map { _ in generator.next() }
        let theirs = try python("""
        state = 1234567
        M = (1 << 64) - 1
        for _ in range(5):
            state = (state + 0x9E3779B97F4A7C15) & M
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            print(z ^ (z >> 31))
        """, modules: ["sys"])
        XCTAssertEqual(ours.map(String.init), theirs.split(separator: "\n").map(String.init))
    }

    func testNetworkBuilderRejectsBadNetworks() {
        expectError(.shapeMismatch, containing: ["conv2", "kernel 5", "larger"]) {
            _ = try NetworkBuilder().conv(out: 4, kernel: 3).conv(out: 4, kernel: 5).build(inputShape: [1, 1, 5, 5])
        }
        expectError(.shapeMismatch, containing: ["dense1", "flatten()"]) {
            _ = try NetworkBuilder().conv(out: 4, kernel: 3).dense(out: 2).build(inputShape: [1, 1, 5, 5])
        }
        expectError(.shapeMismatch, containing: ["conv1", "known C"]) {
            _ = try NetworkBuilder().conv(out: 4, kernel: 3).build(inputShape: [1, nil, 5, 5])
        }
        expectError(.invalidArgument, containing: ["no layers"]) {
            _ = try NetworkBuilder().build(inputShape: [1, 1, 5, 5])
        }
        expectError(.invalidArgument, containing: ["'relu1'", "already used"]) {
            _ = try NetworkBuilder().relu().relu().build(inputShape: [1, 1, 5, 5], outputName: "relu1")
        }
        expectError(.invalidArgument, containing: ["conv1", "out 0"]) {
            _ = try NetworkBuilder().conv(out: 0, kernel: 3).build(inputShape: [1, 1, 5, 5])
        }
        expectError(.invalidArgument, containing: ["above"]) {
            _ = try NetworkBuilder().conv(out: 4, kernel: 3, pad: Int.max).build(inputShape: [1, 1, 5, 5])
        }
    }

    // MARK: - ONNX export

    /// Runs `model` with onnxruntime on `input` (fed to the model's first input) and returns its first output.
    func onnxruntimeOutput(model url: URL, input: Tensor) throws -> Tensor {
        let inputURL = scratch.appendingPathComponent("input-\(UUID().uuidString).npy")
        let outputURL = scratch.appendingPathComponent("output-\(UUID().uuidString).npy")
        try NumpyFile.write(input, to: inputURL)
        _ = try python("""
        import numpy as np, onnxruntime as ort
        session = ort.InferenceSession("\(url.path)", providers=["CPUExecutionProvider"])
        x = np.load("\(inputURL.path)")
        np.save("\(outputURL.path)", session.run(None, {session.get_inputs()[0].name: x})[0])
        """, modules: ["numpy", "onnxruntime"])
        return try NumpyFile.read(contentsOf: outputURL)
    }

    /// max |ours − theirs| ≤ 1e-4 · max |theirs| (+ 1e-7 for all-zero outputs).
    func assertMatchesOnnxruntime(_ ours: Tensor, _ theirs: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.shape, theirs.shape, "\(what): shape", file: file, line: line)
        let scale = Double(theirs.floats.map(abs).max() ?? 0)
        assertClose(ours.floats, theirs.floats.map(Double.init), absolute: 1e-4 * scale + 1e-7, relative: 0,
                    "\(what): cnn-viz vs onnxruntime on the exported model", file: file, line: line)
    }

    func assertBitIdenticalInitializers(_ a: Graph, _ b: Graph, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.initializers.keys), Set(b.initializers.keys), "initializer names", file: file, line: line)
        for (name, tensor) in a.initializers {
            guard let other = b.initializers[name] else { continue }
            XCTAssertEqual(other.shape, tensor.shape, name, file: file, line: line)
            XCTAssertEqual(other.elementType, tensor.isFloatingPoint ? .float32 : tensor.elementType, name, file: file, line: line)
            if tensor.isFloatingPoint {
                XCTAssertTrue(other.floats.map(\.bitPattern) == tensor.floats.map(\.bitPattern), "\(name) is not bit-identical", file: file, line: line)
            } else {
                XCTAssertEqual(other.integers, tensor.integers, name, file: file, line: line)
            }
        }
    }

    func testExportedNetworkMatchesOnnxruntimeAndReimports() throws {
        let model = try smallNetwork().build(inputName: "image", inputShape: [nil, 3, 16, 16], outputName: "logits")
        let url = scratch.appendingPathComponent("small.onnx")
        try ONNXExporter.write(model, to: url)
        let input = Tensor(shape: [3, 3, 16, 16], floats: uniform(3 * 3 * 256, seed: 12))
        let ours = try Session(model: model).run(["image": input])["logits"]!
        assertMatchesOnnxruntime(ours, try onnxruntimeOutput(model: url, input: input), "NetworkBuilder model")

        // The onnx package reads back what we meant to write, and its checker accepts it.
        let summary = try python("""
        import onnx
        m = onnx.load("\(url.path)")
        onnx.checker.check_model(m, full_check=True)
        print(m.ir_version, m.producer_name, [(o.domain, o.version) for o in m.opset_import])
        print([d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])
        print([d.dim_param or d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim])
        print(sorted((p.key, p.value) for p in m.metadata_props))
        print([(n.name, n.op_type) for n in m.graph.node][-1], [a.name for a in m.graph.node[-1].attribute])
        """, modules: ["onnx"])
        XCTAssertEqual(summary.split(separator: "\n").map(String.init), [
            "8 cnn-viz [('', 13)]",
            "['N', 3, 16, 16]",
            "['N', 10]",
            "[('cnn-viz.initialisation', 'he-uniform'), ('cnn-viz.seed', '7')]",
            "('dense1', 'Gemm') ['alpha', 'beta', 'transB']",
        ])

        let reimported = try ONNXImporter.load(contentsOf: url)
        assertBitIdenticalInitializers(model.graph, reimported.graph)
        XCTAssertEqual(reimported.graph.nodes.map(\.name), model.graph.nodes.map(\.name))
        XCTAssertEqual(reimported.graph.inputs.first?.shape, [nil, 3, 16, 16])
        XCTAssertEqual(reimported.metadata, model.metadata)
        XCTAssertEqual(try ONNXExporter.data(of: reimported), try ONNXExporter.data(of: model), "export is deterministic and round-trips")
    }

    func testExportedSqueezeNetMatchesOnnxruntimeAndReimports() throws {
        let original = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let model = try ONNXImporter.load(contentsOf: original)
        let url = scratch.appendingPathComponent("squeezenet-export.onnx")
        try ONNXExporter.write(model, to: url)

        let inputInfo = try XCTUnwrap(model.graph.inputs.first)
        let shape = inputInfo.shape?.map { $0 ?? 1 } ?? [1, 3, 224, 224]
        let input = Tensor(shape: shape, floats: uniform(shape.reduce(1, *), seed: 13, scale: 2))
        let session = try Session(model: model)
        let outputName = try XCTUnwrap(model.graph.outputs.first?.name)
        let ours = try XCTUnwrap(session.run([inputInfo.name: input])[outputName])
        let theirs = try onnxruntimeOutput(model: url, input: input)
        assertMatchesOnnxruntime(ours, theirs, "SqueezeNet 1.1")

        // The onnx checker accepts the export (for IR 3 it requires every initializer among the inputs),
        // and onnxruntime gives the very same numbers on the original file and on the export.
        let difference = try python("""
        import numpy as np, onnx, onnxruntime as ort
        onnx.checker.check_model(onnx.load("\(url.path)"), full_check=True)
        x = np.random.default_rng(0).standard_normal(\(shape)).astype(np.float32)
        outs = [ort.InferenceSession(p, providers=["CPUExecutionProvider"]).run(None, {"\(inputInfo.name)": x})[0]
                for p in ["\(original.path)", "\(url.path)"]]
        print(float(np.max(np.abs(outs[0] - outs[1]))))
        """, modules: ["numpy", "onnx", "onnxruntime"])
        XCTAssertEqual(difference, "0.0")

        let reimported = try ONNXImporter.load(contentsOf: url)
        assertBitIdenticalInitializers(model.graph, reimported.graph)
        XCTAssertEqual(reimported.graph.nodes.map(\.opType), model.graph.nodes.map(\.opType))
        XCTAssertEqual(reimported.graph.nodes.map(\.outputs), model.graph.nodes.map(\.outputs))
        XCTAssertEqual(reimported.graph.inputs.map(\.name), model.graph.inputs.map(\.name))
        XCTAssertEqual(reimported.irVersion, model.irVersion)
        XCTAssertEqual(reimported.opsetVersion, model.opsetVersion)
    }

    func testExportKeepsEveryAttributeKindAndIntegerTypes() throws {
        let attributes: [String: Attribute] = [
            "i": .int(-3), "f": .float(0.25), "s": .string("héllo"), "ints": .ints([1, -2, 3]), "floats": .floats([0.5, -1.5]),
            "strings": .strings(["a", "b"]), "t": .tensor(Tensor(shape: [2], integers: [7, -8], elementType: .int32)),
        ]
        let node = Node(name: "custom1", opType: "Mystery", domain: "test.cnnviz", inputs: ["x", "steps", "mask", "half"], outputs: ["y"],
                        attributes: attributes)
        let graph = Graph(name: "kinds", nodes: [node], initializers: [
            "steps": Tensor(shape: [3], integers: [1, -9_000_000_000, 3]),
            "mask": Tensor(shape: [2], integers: [1, 0], elementType: .bool),
            "half": Tensor(shape: [2], floats: [0.5, -2], elementType: .float16),
        ], inputs: [ValueInfo(name: "x", elementType: .float32, shape: [nil, 3, nil])],
           outputs: [ValueInfo(name: "y", elementType: .int64, shape: nil)])
        let model = Model(graph: graph, irVersion: 9, opsetVersion: 17, metadata: ["b": "2", "a": "1"])
        let url = scratch.appendingPathComponent("kinds.onnx")
        try ONNXExporter.write(model, to: url)

        let summary = try python("""
        import onnx
        from onnx import helper, numpy_helper
        m = onnx.load("\(url.path)")
        print(m.ir_version, m.producer_name, sorted((o.domain, o.version) for o in m.opset_import))
        n = m.graph.node[0]
        print(n.name, n.op_type, n.domain, list(n.input), list(n.output))
        for a in n.attribute:
            v = helper.get_attribute_value(a)
            if isinstance(v, onnx.TensorProto):
                v = (onnx.helper.tensor_dtype_to_np_dtype(v.data_type).name, numpy_helper.to_array(v).tolist())
            print(a.name, onnx.AttributeProto.AttributeType.Name(a.type), v)
        for t in sorted(m.graph.initializer, key=lambda t: t.name):
            a = numpy_helper.to_array(t)
            print(t.name, a.dtype.name, a.tolist())
        print([d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])
        print(m.graph.output[0].type.tensor_type.elem_type, m.graph.output[0].type.tensor_type.HasField("shape"))
        print([(p.key, p.value) for p in m.metadata_props])
        """, modules: ["onnx"])
        XCTAssertEqual(summary.split(separator: "\n").map(String.init), [
            "9 cnn-viz [('', 17), ('test.cnnviz', 1)]",
            "custom1 Mystery test.cnnviz ['x', 'steps', 'mask', 'half'] ['y']",
            "f FLOAT 0.25",
            "floats FLOATS [0.5, -1.5]",
            "i INT -3",
            "ints INTS [1, -2, 3]",
            "s STRING b'h\\xc3\\xa9llo'",
            "strings STRINGS [b'a', b'b']",
            "t TENSOR ('int32', [7, -8])",
            "half float32 [0.5, -2.0]",
            "mask bool [True, False]",
            "steps int64 [1, -9000000000, 3]",
            "['N', 3, 'x_dim2']",
            "7 False",
            "[('a', '1'), ('b', '2')]",
        ])

        let reimported = try ONNXImporter.load(contentsOf: url)
        let back = try XCTUnwrap(reimported.graph.nodes.first)
        XCTAssertEqual(try back.int("i", default: 0), -3)
        XCTAssertEqual(try back.float("f", default: 0), 0.25)
        XCTAssertEqual(try back.string("s", default: ""), "héllo")
        XCTAssertEqual(try back.ints("ints"), [1, -2, 3])
        XCTAssertEqual(try back.floats("floats"), [0.5, -1.5])
        guard case .strings(let strings)? = back.attributes["strings"] else { return XCTFail("strings attribute lost") }
        XCTAssertEqual(strings, ["a", "b"])
        XCTAssertEqual(try back.tensor("t")?.elementType, .int32)
        XCTAssertEqual(try back.tensor("t")?.integers, [7, -8])
        assertBitIdenticalInitializers(graph, reimported.graph)
        XCTAssertEqual(reimported.graph.initializers["mask"]?.elementType, .bool)
        XCTAssertEqual(reimported.graph.inputs.first?.shape, [nil, 3, nil])
        XCTAssertNil(reimported.graph.outputs.first?.shape)
    }

    func testExportRejectsAttributesItCannotWrite() {
        let node = Node(name: "loop1", opType: "Loop", inputs: ["x"], outputs: ["y"], attributes: ["body": .unsupported("graph")])
        let graph = Graph(name: "g", nodes: [node], initializers: [:], inputs: [ValueInfo(name: "x", elementType: .float32, shape: [1])],
                          outputs: [ValueInfo(name: "y", elementType: .float32, shape: [1])])
        expectError(.invalidAttribute, containing: ["loop1", "'body'", "graph"]) {
            _ = try ONNXExporter.data(of: Model(graph: graph, irVersion: 8, opsetVersion: 13))
        }
    }

    func testWriteIntoMissingDirectoryFailsAndLeavesNoFile() throws {
        let model = try smallNetwork().build(inputShape: [1, 3, 8, 8])
        let missing = scratch.appendingPathComponent("no-such-directory")
        let url = missing.appendingPathComponent("model.onnx")
        expectError(.writeFailed, containing: [url.path, "does the directory exist"]) {
            try ONNXExporter.write(model, to: url)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [])

        // A path that is a directory: rename fails, and the temporary file is removed.
        let directory = scratch.appendingPathComponent("taken.onnx")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        expectError(.writeFailed, containing: [directory.path, "rename"]) {
            try ONNXExporter.write(model, to: directory)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["taken.onnx"])
    }

    func testWriteReplacesAnExistingFileWhole() throws {
        let url = scratch.appendingPathComponent("model.onnx")
        try Data(repeating: 0xAB, count: 10_000_000).write(to: url)
        let model = try smallNetwork().build(inputShape: [1, 3, 8, 8])
        try ONNXExporter.write(model, to: url)
        XCTAssertEqual(try Data(contentsOf: url), try ONNXExporter.data(of: model))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["model.onnx"])
    }
}
