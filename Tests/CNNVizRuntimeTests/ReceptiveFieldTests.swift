import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `cnn-viz summary`'s receptive fields: on ResNet-18- and SqueezeNet-1.1-shaped models the
/// size, jump and start equal the closed form worked out by hand below, and the input region
/// where one output unit's gradient is non-zero (all-positive weights and inputs, so every
/// path contributes) is exactly the predicted window clipped to the image.
///
/// Convention (as `ReceptiveField`): pixel i is centred at i; unit u of a layer sees
/// start + u·jump ± (RF − 1)/2. Per layer: r′ = r + (k_eff − 1)·j, j′ = j·s,
/// start′ = start + ((k_eff − 1)/2 − pad_begin)·j, from r = 1, j = 1, start = 0.
final class ReceptiveFieldTests: EngineTestCase {
    /// Graphs built node by node, with all-positive weights 1/fan_in and zero biases.
    struct GraphBuilder {
        enum PoolKind: String { case max = "MaxPool", average = "AveragePool" }
        var nodes = [Node]()
        var initializers = [String: Tensor]()
        var channels = ["input": 3]
        var poolKind = PoolKind.max

        mutating func add(_ op: String, _ inputs: [String], name: String, channels outChannels: Int,
                          attributes: [String: Attribute] = [:]) -> String {
            nodes.append(Node(name: name, opType: op, inputs: inputs, outputs: [name], attributes: attributes))
            channels[name] = outChannels
            return name
        }

        mutating func conv(_ x: String, out: Int, kernel: Int, stride: Int = 1, pad: Int = 0, name: String) -> String {
            let c = channels[x]!, fanIn = c * kernel * kernel
            initializers[name + ".w"] = Tensor(shape: [out, c, kernel, kernel], floats: [Float](repeating: 1 / Float(fanIn), count: out * fanIn))
            initializers[name + ".b"] = Tensor(shape: [out], floats: [Float](repeating: 0, count: out))
            return add("Conv", [x, name + ".w", name + ".b"], name: name, channels: out, attributes: [
                "kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]), "pads": .ints([pad, pad, pad, pad])])
        }

        /// Inference-mode batch norm with scale 1, shift 0, mean 0, variance 1: positive stays positive.
        mutating func batchNorm(_ x: String, name: String) -> String {
            let c = channels[x]!
            for (suffix, value) in [("scale", 1), ("shift", 0), ("mean", 0), ("var", 1)] as [(String, Float)] {
                initializers["\(name).\(suffix)"] = Tensor(shape: [c], floats: [Float](repeating: value, count: c))
            }
            return add("BatchNormalization", [x] + ["scale", "shift", "mean", "var"].map { "\(name).\($0)" }, name: name, channels: c)
        }

        mutating func relu(_ x: String, name: String) -> String { add("Relu", [x], name: name, channels: channels[x]!) }

        mutating func pool(_ x: String, kernel: Int, stride: Int, pad: Int = 0, ceil: Bool = false, name: String) -> String {
            add(poolKind.rawValue, [x], name: name, channels: channels[x]!, attributes: [
                "kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]), "pads": .ints([pad, pad, pad, pad]),
                "ceil_mode": .int(ceil ? 1 : 0)])
        }

        mutating func sum(_ a: String, _ b: String, name: String) -> String { add("Add", [a, b], name: name, channels: channels[a]!) }

        mutating func concat(_ parts: [String], name: String) -> String {
            add("Concat", parts, name: name, channels: parts.reduce(0) { $0 + channels[$1]! }, attributes: ["axis": .int(1)])
        }

        /// Global average pool, flatten and a dense layer of `classes` outputs.
        mutating func head(_ x: String, classes: Int) -> String {
            let c = channels[x]!
            let pooled = add("GlobalAveragePool", [x], name: "gap", channels: c)
            let flat = add("Flatten", [pooled], name: "flatten", channels: c)
            initializers["fc.w"] = Tensor(shape: [classes, c], floats: [Float](repeating: 1 / Float(c), count: classes * c))
            initializers["fc.b"] = Tensor(shape: [classes], floats: [Float](repeating: 0, count: classes))
            return add("Gemm", [flat, "fc.w", "fc.b"], name: "logits", channels: classes, attributes: ["transB": .int(1)])
        }

        func model(size: Int, output: String) -> Model {
            Model(graph: Graph(name: "test", nodes: nodes, initializers: initializers,
                               inputs: [ValueInfo(name: "input", elementType: .float32, shape: [1, 3, size, size])],
                               outputs: [ValueInfo(name: output, elementType: .float32, shape: nil)]),
                  irVersion: 8, opsetVersion: 13)
        }
    }

    /// ResNet-18's layout with narrow channels: 7×7/2 conv (pad 3), 3×3/2 max pool (pad 1),
    /// four stages of two basic blocks (3×3 convs, pad 1); stages 2–4 start with a stride-2
    /// conv and a 1×1 stride-2 projection shortcut. Stage outputs are `layer1` … `layer4`.
    static func resnet18(size: Int, pool: GraphBuilder.PoolKind = .max) -> Model {
        var b = GraphBuilder(poolKind: pool)
        var x = b.conv("input", out: 8, kernel: 7, stride: 2, pad: 3, name: "conv1")
        x = b.batchNorm(x, name: "bn1")
        x = b.relu(x, name: "relu1")
        x = b.pool(x, kernel: 3, stride: 2, pad: 1, name: "pool1")
        for (stage, width) in [8, 8, 16, 16].enumerated() {
            for block in 0..<2 {
                let prefix = "layer\(stage + 1).\(block)", stride = stage > 0 && block == 0 ? 2 : 1
                var y = b.conv(x, out: width, kernel: 3, stride: stride, pad: 1, name: prefix + ".conv1")
                y = b.batchNorm(y, name: prefix + ".bn1")
                y = b.relu(y, name: prefix + ".relu1")
                y = b.conv(y, out: width, kernel: 3, pad: 1, name: prefix + ".conv2")
                y = b.batchNorm(y, name: prefix + ".bn2")
                var shortcut = x
                if stride != 1 {
                    shortcut = b.conv(x, out: width, kernel: 1, stride: 2, name: prefix + ".downsample")
                    shortcut = b.batchNorm(shortcut, name: prefix + ".downsample.bn")
                }
                let sum = b.sum(y, shortcut, name: prefix + ".add")
                x = b.relu(sum, name: block == 1 ? "layer\(stage + 1)" : prefix + ".relu2")
            }
        }
        let logits = b.head(x, classes: 10)
        return b.model(size: size, output: logits)
    }

    /// SqueezeNet 1.1's layout with narrow channels: 3×3/2 conv (no pad), 3×3/2 ceil-mode max
    /// pools after conv1, fire3 and fire5; fire modules (1×1 squeeze, 1×1 and 3×3 pad-1
    /// expands, concatenated); a 1×1 conv10, ReLU and global average pool.
    static func squeezenet11(size: Int, pool: GraphBuilder.PoolKind = .max) -> Model {
        var b = GraphBuilder(poolKind: pool)
        func fire(_ x: String, _ name: String, squeeze: Int, expand: Int) -> String {
            var s = b.conv(x, out: squeeze, kernel: 1, name: name + "/squeeze1x1")
            s = b.relu(s, name: name + "/squeeze_relu")
            var e1 = b.conv(s, out: expand, kernel: 1, name: name + "/expand1x1")
            e1 = b.relu(e1, name: name + "/expand1x1_relu")
            var e3 = b.conv(s, out: expand, kernel: 3, pad: 1, name: name + "/expand3x3")
            e3 = b.relu(e3, name: name + "/expand3x3_relu")
            return b.concat([e1, e3], name: name)
        }
        var x = b.conv("input", out: 8, kernel: 3, stride: 2, name: "conv1")
        x = b.relu(x, name: "relu_conv1")
        x = b.pool(x, kernel: 3, stride: 2, ceil: true, name: "pool1")
        x = fire(x, "fire2", squeeze: 4, expand: 4)
        x = fire(x, "fire3", squeeze: 4, expand: 4)
        x = b.pool(x, kernel: 3, stride: 2, ceil: true, name: "pool3")
        x = fire(x, "fire4", squeeze: 4, expand: 8)
        x = fire(x, "fire5", squeeze: 4, expand: 8)
        x = b.pool(x, kernel: 3, stride: 2, ceil: true, name: "pool5")
        for index in 6...9 { x = fire(x, "fire\(index)", squeeze: 8, expand: 8) }
        x = b.conv(x, out: 10, kernel: 1, name: "conv10")
        x = b.relu(x, name: "relu_conv10")
        let pooled = b.add("GlobalAveragePool", [x], name: "pool10", channels: 10)
        return b.model(size: size, output: pooled)
    }

    func summaryRows(_ model: Model) throws -> [String: ModelSummary.Row] {
        let rows = try ModelSummary.rows(for: try Session(model: model))
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0) })
    }

    /// The row's field is square with this size, jump and start.
    func assertField(_ rows: [String: ModelSummary.Row], _ name: String, size: Double, jump: Double, start: Double,
                     file: StaticString = #filePath, line: UInt = #line) {
        guard let field = rows[name]?.receptiveField else { return XCTFail("no receptive field for \(name)", file: file, line: line) }
        XCTAssertFalse(field.isGlobal || field.isApproximate, name, file: file, line: line)
        XCTAssertEqual(field.axes, [ReceptiveField.Axis](repeating: .init(size: size, jump: jump, start: start), count: 2),
                       name, file: file, line: line)
    }

    /// ResNet-18 at 224×224. Every window op keeps the centre where it was (start stays 0:
    /// (k_eff − 1)/2 = pad for 7×7 pad 3, 3×3 pad 1 and 1×1 pad 0), so only r and j move:
    func testResNet18ClosedForm() throws {
        let rows = try summaryRows(ReceptiveFieldTests.resnet18(size: 224))
        assertField(rows, "conv1", size: 7, jump: 2, start: 0)               // 1 + 6·1 = 7, j = 1·2
        assertField(rows, "bn1", size: 7, jump: 2, start: 0)                 // unchanged
        assertField(rows, "pool1", size: 11, jump: 4, start: 0)              // 7 + 2·2 = 11, j = 2·2
        assertField(rows, "layer1", size: 43, jump: 4, start: 0)             // 11 + 4 convs · 2·4 = 43
        assertField(rows, "layer2.0.conv1", size: 51, jump: 8, start: 0)     // 43 + 2·4 = 51, j = 4·2
        assertField(rows, "layer2.0.downsample", size: 43, jump: 8, start: 0) // 1×1: 43 + 0, j = 4·2
        assertField(rows, "layer2.0.add", size: 67, jump: 8, start: 0)       // max(51 + 2·8, 43) = 67
        assertField(rows, "layer2", size: 99, jump: 8, start: 0)             // 67 + 2 convs · 2·8 = 99
        assertField(rows, "layer3", size: 211, jump: 16, start: 0)           // 99 + 2·8 + 3 convs · 2·16 = 211
        assertField(rows, "layer4", size: 435, jump: 32, start: 0)           // 211 + 2·16 + 3 convs · 2·32 = 435
        let gap = try XCTUnwrap(rows["gap"]?.receptiveField)
        XCTAssertTrue(gap.isGlobal)
        // The union of all 7×7 layer4 units' fields: 435 + 6·32 = 627, one unit (jump 7·32 = 224).
        XCTAssertEqual(gap.axes.first, .init(size: 627, jump: 224, start: 96))
        XCTAssertNil(rows["flatten"]?.receptiveField)
        XCTAssertNil(rows["logits"]?.receptiveField)
        XCTAssertNil(rows["logits"]?.note)
    }

    /// SqueezeNet 1.1 at 224×224:
    ///   conv1 3×3/2 pad 0: r = 1 + 2·1 = 3,   j = 2,  start = 0 + (1 − 0)·1 = 1
    ///   pool1 3×3/2:       r = 3 + 2·2 = 7,   j = 4,  start = 1 + 1·2 = 3
    ///   fire2 (3×3 pad 1 expand): 7 + 2·4 = 15, fire3: 15 + 8 = 23 (start stays 3)
    ///   pool3 3×3/2:       r = 23 + 2·4 = 31, j = 8,  start = 3 + 1·4 = 7
    ///   fire4: 31 + 2·8 = 47, fire5: 47 + 16 = 63
    ///   pool5 3×3/2:       r = 63 + 2·8 = 79, j = 16, start = 7 + 1·8 = 15
    ///   fire6…fire9: 79 + 4 · 2·16 = 207; conv10 (1×1): 207, j = 16, start = 15
    func testSqueezeNet11ClosedForm() throws {
        let rows = try summaryRows(ReceptiveFieldTests.squeezenet11(size: 224))
        assertField(rows, "conv1", size: 3, jump: 2, start: 1)
        assertField(rows, "pool1", size: 7, jump: 4, start: 3)
        assertField(rows, "fire2/squeeze1x1", size: 7, jump: 4, start: 3)
        assertField(rows, "fire2/expand3x3", size: 15, jump: 4, start: 3)
        assertField(rows, "fire2", size: 15, jump: 4, start: 3)  // Concat: the larger branch, same centre
        assertField(rows, "fire3", size: 23, jump: 4, start: 3)
        assertField(rows, "pool3", size: 31, jump: 8, start: 7)
        assertField(rows, "fire5", size: 63, jump: 8, start: 7)
        assertField(rows, "pool5", size: 79, jump: 16, start: 15)
        assertField(rows, "fire9", size: 207, jump: 16, start: 15)
        assertField(rows, "conv10", size: 207, jump: 16, start: 15)
        XCTAssertEqual(rows["conv10"]?.shape, [1, 10, 13, 13])
        XCTAssertEqual(rows["pool10"]?.receptiveField?.isGlobal, true)
    }

    /// Per-axis kernels, strides, dilations and pads, and auto_pad's odd pixel: a 4-wide
    /// SAME_UPPER window has 1 leading pad pixel (start 1.5 − 1 = 0.5), SAME_LOWER has 2
    /// (start 1.5 − 2 = −0.5).
    func testAxesDilationAndAutoPad() throws {
        var b = GraphBuilder()
        b.channels["input"] = 1
        b.initializers["w"] = Tensor(shape: [1, 1, 3, 5], floats: [Float](repeating: 1, count: 15))
        b.initializers["w4"] = Tensor(shape: [1, 1, 4, 4], floats: [Float](repeating: 1, count: 16))
        // H: k 3, d 2 → k_eff 5: r 5, j 1, start (5 − 1)/2 − 1 = 1. W: k 5, s 2, pad 2: r 5, j 2, start 2 − 2 = 0.
        _ = b.add("Conv", ["input", "w"], name: "mixed", channels: 1, attributes: [
            "strides": .ints([1, 2]), "dilations": .ints([2, 1]), "pads": .ints([1, 2, 1, 2])])
        _ = b.add("Conv", ["input", "w4"], name: "upper", channels: 1, attributes: ["auto_pad": .string("SAME_UPPER")])
        _ = b.add("Conv", ["input", "w4"], name: "lower", channels: 1, attributes: ["auto_pad": .string("SAME_LOWER")])
        var model = b.model(size: 16, output: "mixed")
        model.graph.inputs[0].shape = [1, 1, 16, 16]
        let rows = try summaryRows(model)
        XCTAssertEqual(rows["mixed"]?.receptiveField?.axes, [.init(size: 5, jump: 1, start: 1), .init(size: 5, jump: 2, start: 0)])
        XCTAssertEqual(rows["upper"]?.receptiveField?.axes.first, .init(size: 4, jump: 1, start: 0.5))
        XCTAssertEqual(rows["lower"]?.receptiveField?.axes.first, .init(size: 4, jump: 1, start: -0.5))
        XCTAssertEqual(rows["mixed"]?.receptiveField?.axes[1].window(ofUnit: 3), 4...8)
    }

    /// The region of the input where ∂(one unit)/∂input ≠ 0, as (rows, columns), after checking
    /// that it is a full rectangle. Weights and inputs are positive, so nothing cancels.
    func gradientSupport(_ session: Session, input: Tensor, unit tensor: String, channel: Int, y: Int, x: Int,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (rows: Set<Int>, columns: Set<Int>, pixels: Set<[Int]>) {
        let shape = try XCTUnwrap(try session.run(["input": input], outputs: [tensor])[tensor]).shape
        var seed = [Float](repeating: 0, count: shape.reduce(1, *))
        seed[(channel * shape[2] + y) * shape[3] + x] = 1
        let result = try session.gradients(["input": input], seed: GradientSeed(output: tensor, kind: .cotangent(Tensor(shape: shape, floats: seed))),
                                           wrt: ["input"])
        let gradient = try XCTUnwrap(result.gradients["input"]), (h, w) = (input.shape[2], input.shape[3])
        let values = gradient.floats
        var pixels = Set<[Int]>()
        for c in 0..<input.shape[1] {
            for i in 0..<h { for j in 0..<w where values[(c * h + i) * w + j] != 0 { pixels.insert([i, j]) } }
        }
        return (Set(pixels.map { $0[0] }), Set(pixels.map { $0[1] }), pixels)
    }

    /// The predicted window of unit `unit` along one axis, from start, jump and size, clipped to [0, extent).
    func predictedWindow(_ axis: ReceptiveField.Axis, unit: Int, extent: Int) -> Set<Int> {
        let centre = axis.start + Double(unit) * axis.jump
        let low = centre - (axis.size - 1) / 2, high = centre + (axis.size - 1) / 2
        XCTAssertEqual(low, low.rounded(), "window ends fall on pixels")
        return Set(max(0, Int(low))...min(extent - 1, Int(high)))
    }

    /// With average pools every path carries a positive weight, so the support is exactly the
    /// predicted window clipped to the image; checked for units in the middle, at the first and
    /// at the last position (the last ones lie partly past the image). Each unit is in the last
    /// channel: after a fire module's Concat that channel comes from the 3×3 expand, whose field
    /// is the layer's (the largest over channels; the 1×1 half sees less, as
    /// `testConcatChannelsHaveTheirBranchesFields` shows).
    func checkGradientSupport(_ model: Model, size: Int, units: [(String, Int, Int)], file: StaticString = #filePath, line: UInt = #line) throws {
        let session = try Session(model: model)
        let rows = try summaryRows(model)
        let input = Tensor(shape: [1, 3, size, size], floats: [Float](repeating: 1, count: 3 * size * size))
        for (tensor, y, x) in units {
            let channels = try XCTUnwrap(rows[tensor]?.shape[1])
            let support = try gradientSupport(session, input: input, unit: tensor, channel: channels - 1, y: y, x: x)
            let field = try XCTUnwrap(rows[tensor]?.receptiveField, tensor)
            assertSupport(support, field: field, y: y, x: x, size: size, "\(tensor) unit (\(y), \(x))", file: file, line: line)
        }
    }

    func assertSupport(_ support: (rows: Set<Int>, columns: Set<Int>, pixels: Set<[Int]>), field: ReceptiveField, y: Int, x: Int,
                       size: Int, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let expectedRows = predictedWindow(field.axes[0], unit: y, extent: size)
        let expectedColumns = predictedWindow(field.axes[1], unit: x, extent: size)
        XCTAssertEqual(support.rows.sorted(), expectedRows.sorted(), "\(label) rows", file: file, line: line)
        XCTAssertEqual(support.columns.sorted(), expectedColumns.sorted(), "\(label) columns", file: file, line: line)
        XCTAssertEqual(support.pixels.count, expectedRows.count * expectedColumns.count, "\(label): the support is a full rectangle",
                       file: file, line: line)
    }

    /// A Concat's field is the largest of its branches'; the channels from the 1×1 expand of
    /// fire3 see only what fire3/expand1x1 sees (15 = fire2's 15 + 0), not the layer's 23.
    func testConcatChannelsHaveTheirBranchesFields() throws {
        let model = ReceptiveFieldTests.squeezenet11(size: 101, pool: .average)
        let rows = try summaryRows(model)
        let input = Tensor(shape: [1, 3, 101, 101], floats: [Float](repeating: 1, count: 3 * 101 * 101))
        let support = try gradientSupport(try Session(model: model), input: input, unit: "fire3", channel: 0, y: 12, x: 12)
        let branch = try XCTUnwrap(rows["fire3/expand1x1"]?.receptiveField)
        XCTAssertEqual(branch.axes[0].size, 15)
        assertSupport(support, field: branch, y: 12, x: 12, size: 101, "fire3 channel 0")
    }

    /// ResNet-18 shape at 128×128 (maps 64, 32, 32, 16, 8, 4), average pool instead of max pool.
    /// pool1 (16,16): centre 4·16 = 64, 64 ± 5; layer1 (16,16): 64 ± 21; layer1 (31,31): 124 ± 21 → 103…127;
    /// layer2 (8,8): 64 ± 49 = 15…113; layer4 (2,2): 64 ± 217 → the whole image.
    func testResNet18GradientSupportIsTheField() throws {
        try checkGradientSupport(ReceptiveFieldTests.resnet18(size: 128, pool: .average), size: 128, units: [
            ("pool1", 16, 16), ("pool1", 0, 0), ("layer1", 16, 16), ("layer1", 0, 0), ("layer1", 31, 31),
            ("layer2.0.add", 8, 8), ("layer2", 8, 8), ("layer3", 4, 4), ("layer4", 2, 2), ("gap", 0, 0)])
    }

    /// SqueezeNet 1.1 shape at 101×101 (maps 50, 25, 12, 6): the ceil-mode pools add a last
    /// unit whose window runs past the map (pool1: 24 = ⌈(50 − 3)/2⌉, pool5: 5 = ⌈(12 − 3)/2⌉),
    /// and no floor-mode window leaves trailing pixels unused. fire3 (12,12): 3 + 48 = 51 ± 11;
    /// fire5 (6,6): 7 + 48 = 55 ± 31; fire5 (11,11): 95 ± 31 → 64…100; fire9 (3,3): the whole image.
    func testSqueezeNet11GradientSupportIsTheField() throws {
        try checkGradientSupport(ReceptiveFieldTests.squeezenet11(size: 101, pool: .average), size: 101, units: [
            ("pool1", 12, 12), ("pool1", 24, 24), ("fire3", 12, 12), ("fire3", 0, 0), ("fire3", 24, 24),
            ("fire5", 6, 6), ("fire5", 11, 11), ("pool5", 5, 5), ("fire9", 3, 3), ("conv10", 0, 5), ("pool10", 0, 0)])
    }

    /// With max pools the gradient reaches only each window's arg-max: a non-empty subset of the field.
    func testMaxPoolGradientSupportLiesInsideTheField() throws {
        var random = SeededRandom(state: 5)
        for (model, size, units) in [(ReceptiveFieldTests.resnet18(size: 128), 128, [("layer1", 16, 16), ("layer2", 15, 15)]),
                                     (ReceptiveFieldTests.squeezenet11(size: 101), 101, [("fire5", 6, 6), ("fire5", 11, 11)])] {
            let session = try Session(model: model)
            let rows = try summaryRows(model)
            let input = Tensor(shape: [1, 3, size, size], floats: random.tensor([1, 3, size, size], scale: 0.5).floats.map { $0 + 1 })
            for (tensor, y, x) in units {
                let support = try gradientSupport(session, input: input, unit: tensor, channel: 0, y: y, x: x)
                let field = try XCTUnwrap(rows[tensor]?.receptiveField)
                XCTAssertFalse(support.pixels.isEmpty, tensor)
                XCTAssertTrue(support.rows.isSubset(of: predictedWindow(field.axes[0], unit: y, extent: size)), tensor)
                XCTAssertTrue(support.columns.isSubset(of: predictedWindow(field.axes[1], unit: x, extent: size)), tensor)
            }
        }
    }

    /// Activation memory of input [1,1,4,4] → Conv 3×3 pad 1 to 2 channels → Relu → GAP → Flatten:
    /// outputs of 32, 32, 2 and 2 elements sum to 68 (272 bytes); live at most: after Relu, the
    /// conv output (32, its last reader) and the Relu output (32) = 64 elements (256 bytes).
    /// Parameters: 2·1·3·3 + 2 = 20 (80 bytes).
    func testTotalsAndActivationMemory() throws {
        let model = try NetworkBuilder(seed: 1).conv(out: 2, kernel: 3, pad: 1).relu().globalAveragePool().flatten()
            .build(inputShape: [1, 1, 4, 4])
        let totals = try ModelSummary.summary(for: try Session(model: model)).totals
        XCTAssertEqual(totals.layers, 4)
        XCTAssertEqual(totals.parameters, 20)
        XCTAssertEqual(totals.parameterBytes, 80)
        XCTAssertEqual(totals.activationBytes, 272)
        XCTAssertEqual(totals.peakActivationBytes, 256)
    }

    /// Ops without a closed form: ConvTranspose is nil with a note, Resize is approximate.
    func testTransposedConvAndResize() throws {
        var b = GraphBuilder()
        let x = b.conv("input", out: 2, kernel: 3, stride: 2, pad: 1, name: "down")  // r 3, j 2, start 0
        b.initializers["scales"] = Tensor(shape: [4], floats: [1, 1, 2, 2])
        _ = b.add("Resize", [x, "", "scales"], name: "up", channels: 2, attributes: ["coordinate_transformation_mode": .string("asymmetric")])
        b.initializers["wt"] = Tensor(shape: [2, 2, 2, 2], floats: [Float](repeating: 0.25, count: 16))
        _ = b.add("ConvTranspose", [x, "wt"], name: "deconv", channels: 2, attributes: ["strides": .ints([2, 2])])
        let rows = try summaryRows(b.model(size: 16, output: "up"))
        let up = try XCTUnwrap(rows["up"]?.receptiveField)
        XCTAssertTrue(up.isApproximate)
        XCTAssertEqual(up.axes.first, .init(size: 3, jump: 1, start: 0))
        XCTAssertNil(rows["deconv"]?.receptiveField)
        XCTAssertTrue(rows["deconv"]?.note?.contains("ConvTranspose") ?? false)
    }

    /// `cnn-viz summary --json` on an exported SqueezeNet-shaped model shows the fields and the
    /// totals, and the table fits in 100 columns.
    func testSummaryCommandShowsReceptiveFields() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("squeezenet-shaped.onnx")
        try ONNXExporter.write(ReceptiveFieldTests.squeezenet11(size: 224), to: file)
        let json = try TestData.runJSON(["summary", "--model", file.path])
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        let fire9 = try XCTUnwrap(layers.first { $0["name"] as? String == "fire9" })
        let field = try XCTUnwrap(fire9["receptive_field"] as? [String: Any])
        func numbers(_ value: Any?) -> [Double]? { (value as? [NSNumber])?.map(\.doubleValue) }
        XCTAssertEqual(numbers(field["size"]), [207, 207])
        XCTAssertEqual(numbers(field["jump"]), [16, 16])
        XCTAssertEqual(numbers(field["start"]), [15, 15])
        XCTAssertEqual(field["global"] as? Bool, false)
        XCTAssertEqual(field["approximate"] as? Bool, false)
        let pool10 = try XCTUnwrap(layers.first { $0["name"] as? String == "pool10" })
        XCTAssertEqual((pool10["receptive_field"] as? [String: Any])?["global"] as? Bool, true)
        let totals = try XCTUnwrap(json["totals"] as? [String: NSNumber]).mapValues(\.intValue)
        XCTAssertEqual(totals["parameter_bytes"], 4 * (totals["parameters"] ?? 0))
        XCTAssertGreaterThan(totals["activation_bytes"] ?? 0, totals["peak_activation_bytes"] ?? 0)
        XCTAssertGreaterThan(totals["peak_activation_bytes"] ?? 0, 0)
        XCTAssertEqual(totals["layers"], layers.count)

        let (status, output, errors) = try TestData.runBinary(["summary", "--model", file.path])
        XCTAssertEqual(status, 0, errors)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("RF") ?? false)
        XCTAssertTrue(lines.contains { $0.hasPrefix("fire9 ") && $0.contains("207") }, "\(lines)")
        for line in lines { XCTAssertLessThanOrEqual(line.count, 100, String(line)) }
    }
}
