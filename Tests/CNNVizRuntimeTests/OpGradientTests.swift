import CNNVizRuntime
import CNNVizTestSupport
import XCTest

/// Every op family's VJP against central finite differences (see `GradientCheck` for the
/// tolerance). Inputs are drawn away from kinks; ties get closed-form checks instead.
final class OpGradientTests: EngineTestCase {
    var random = SeededRandom(state: 11)

    func check(_ op: String, _ attributes: [String: Attribute] = [:], _ inputs: [Tensor?], checked: [Int]? = nil,
               opset: Int = 17, outputs: Int = 1, output: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let slots = checked ?? inputs.indices.filter { inputs[$0]?.isFloatingPoint == true }
        try GradientCheck(opType: op, attributes: attributes, inputs: inputs, checked: slots, opset: opset, outputCount: outputs)
            .run(output: output, file: file, line: line)
    }

    func ints(_ values: [Int]) -> Tensor { Tensor.int64Vector(values) }

    func testActivations() throws {
        let x = random.tensor([2, 3, 4], scale: 3, awayFromZero: 0.05)
        for op in ["Relu", "Sigmoid", "Tanh", "Softplus", "Mish", "Erf", "Exp", "Neg", "Abs", "Selu", "Elu", "HardSwish", "Sin", "Cos", "Softsign", "Celu"] {
            try check(op, [:], [x])
        }
        try check("LeakyRelu", ["alpha": .float(0.2)], [x])
        try check("HardSigmoid", ["alpha": .float(0.3), "beta": .float(0.4)], [random.tensor([3, 5], scale: 0.9)])
        try check("Gelu", [:], [x], opset: 20)
        try check("Gelu", ["approximate": .string("tanh")], [x], opset: 20)
        let positive = Tensor(shape: [10], floats: (0..<10).map { 0.5 + Float($0) * 0.3 })
        for op in ["Sqrt", "Log", "Reciprocal"] { try check(op, [:], [positive]) }
        try check("Clip", [:], [random.tensor([4, 5], scale: 2, awayFromZero: 0.05), .scalar(-1), .scalar(0.5)], checked: [0])
        try check("Clip", ["min": .float(0), "max": .float(6)], [random.tensor([4, 5], scale: 8, awayFromZero: 0.1)], opset: 10)
        // PRelu with a per-channel slope: both x and the slope.
        try check("PRelu", [:], [random.tensor([2, 3, 4, 4], awayFromZero: 0.05), random.tensor([3, 1, 1])])
    }

    func testBroadcastingArithmeticAlongEachAxis() throws {
        let a = random.tensor([2, 3, 4])
        for bShape in [[2, 3, 4], [1, 3, 4], [2, 1, 4], [2, 3, 1], [4], [3, 1], []] {
            let b = random.tensor(bShape)
            for op in ["Add", "Sub", "Mul"] {
                try check(op, [:], [a, b])
                try check(op, [:], [b, a])
            }
            let denominator = Tensor(shape: bShape, floats: b.floats.map { $0 < 0 ? $0 - 0.5 : $0 + 0.5 })
            try check("Div", [:], [a, denominator])
            try check("Div", [:], [denominator, Tensor(shape: a.shape, floats: a.floats.map { $0 < 0 ? $0 - 0.5 : $0 + 0.5 })])
        }
        let base = Tensor(shape: [3, 4], floats: random.tensor([3, 4]).floats.map { abs($0) + 0.5 })
        try check("Pow", [:], [base, random.tensor([4])])
    }

    func testVariadicSumMeanMaxMin() throws {
        let a = random.tensor([2, 3]), b = random.tensor([3]), c = random.tensor([2, 1])
        try check("Sum", [:], [a, b, c])
        try check("Mean", [:], [a, b, c])
        let distinct = random.distinct([2, 3, 3])
        let parts = (0..<3).map { Tensor(shape: [2, 3], floats: Array(distinct.floats[($0 * 6)..<($0 * 6 + 6)])) }
        try check("Max", [:], parts)
        try check("Min", [:], parts)
        // A tie splits the gradient evenly, as PyTorch's maximum does.
        let session = try GradientCheck(opType: "Max", inputs: [Tensor(shape: [2], floats: [1, 2]), Tensor(shape: [2], floats: [1, 0])],
                                        checked: [0, 1]).session()
        let result = try session.gradients(["x0": Tensor(shape: [2], floats: [1, 2]), "x1": Tensor(shape: [2], floats: [1, 0])],
                                           seed: GradientSeed(output: "y0", kind: .sum), wrt: ["x0", "x1"])
        XCTAssertEqual(result.gradients["x0"]?.floats, [0.5, 1])
        XCTAssertEqual(result.gradients["x1"]?.floats, [0.5, 0])
    }

    func testPools() throws {
        let x = random.distinct([2, 2, 7, 7])
        try check("MaxPool", ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], [x])
        try check("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)], [x])
        try check("MaxPool", ["kernel_shape": .ints([2, 3]), "dilations": .ints([2, 1]), "strides": .ints([1, 2])], [x])
        // Wide enough rows (41) for the eight-window stride-2 path, and its scalar tail.
        try check("MaxPool", ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])], [random.distinct([1, 2, 5, 41])])
        try check("MaxPool", ["kernel_shape": .ints([3]), "strides": .ints([2]), "pads": .ints([1, 0])], [random.distinct([1, 2, 9])])
        try check("MaxPool", ["kernel_shape": .ints([2, 2, 2])], [random.distinct([1, 1, 3, 4, 3])])
        let y = random.tensor([2, 2, 7, 6])
        for include in [0, 1] {
            try check("AveragePool", ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                      "count_include_pad": .int(include)], [y])
            try check("AveragePool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1),
                                      "count_include_pad": .int(include)], [y])
        }
        try check("GlobalAveragePool", [:], [y])
        try check("GlobalMaxPool", [:], [x])
    }

    /// Ties in a max-pool window: the gradient goes to the first maximum in row-major order.
    func testMaxPoolTiesGoToTheFirstMaximum() throws {
        let x = Tensor(shape: [1, 1, 2, 4], floats: [1, 3, 5, 5, 3, 2, 5, 1])
        let check = GradientCheck(opType: "MaxPool", attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])],
                                  inputs: [x], checked: [0])
        let result = try check.session().gradients(["x0": x], seed: GradientSeed(output: "y0", kind: .sum), wrt: ["x0"])
        XCTAssertEqual(result.gradients["x0"]?.floats, [0, 1, 1, 0, 0, 0, 0, 0])
        // 3×3 stride 2 over rows of 40 equal values, eight windows at a time: each window's
        // top-left tap, and the shared column between neighbours gets only its own window's.
        let flat = Tensor(shape: [1, 1, 3, 40], floats: [Float](repeating: 2, count: 120))
        let pool = GradientCheck(opType: "MaxPool", attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])],
                                 inputs: [flat], checked: [0])
        let flatResult = try pool.session().gradients(["x0": flat], seed: GradientSeed(output: "y0", kind: .sum), wrt: ["x0"])
        XCTAssertEqual(flatResult.gradients["x0"]?.floats, (0..<120).map { $0 < 40 && $0 % 2 == 0 && $0 <= 36 ? 1 : 0 })
    }

    func testNormalization() throws {
        let x = random.tensor([2, 3, 4, 5])
        let scale = random.tensor([3]), bias = random.tensor([3]), mean = random.tensor([3], scale: 0.3)
        let variance = Tensor(shape: [3], floats: [0.5, 1.2, 0.8])
        try check("BatchNormalization", [:], [x, scale, bias, mean, variance])
        try check("BatchNormalization", ["training_mode": .int(1)], [x, scale, bias, mean, variance], checked: [0, 1, 2],
                  outputs: 1)
        try check("InstanceNormalization", [:], [x, scale, bias])
        try check("LRN", ["size": .int(3), "alpha": .float(0.1), "beta": .float(0.75), "bias": .float(1)],
                  [random.tensor([2, 5, 3, 3], scale: 2)])
        try check("LRN", ["size": .int(4), "alpha": .float(0.3), "beta": .float(0.6), "bias": .float(2)],
                  [random.tensor([1, 6, 2, 2], scale: 2)])
    }

    func testGemmAndMatMul() throws {
        for (transA, transB) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let a = random.tensor(transA == 1 ? [4, 3] : [3, 4]), b = random.tensor(transB == 1 ? [5, 4] : [4, 5])
            try check("Gemm", ["transA": .int(transA), "transB": .int(transB), "alpha": .float(0.7), "beta": .float(1.3)],
                      [a, b, random.tensor([5])])
        }
        try check("Gemm", [:], [random.tensor([3, 4]), random.tensor([4, 2]), random.tensor([3, 1])])
        try check("MatMul", [:], [random.tensor([2, 1, 3, 4]), random.tensor([3, 4, 2])])
        try check("MatMul", [:], [random.tensor([4]), random.tensor([2, 4, 3])])
        try check("MatMul", [:], [random.tensor([2, 3, 4]), random.tensor([4])])
    }

    func testSoftmaxAndReductions() throws {
        let x = random.tensor([2, 3, 4], scale: 2)
        for op in ["Softmax", "LogSoftmax"] {
            try check(op, ["axis": .int(1)], [x], opset: 13)
            try check(op, ["axis": .int(-1)], [x], opset: 13)
            try check(op, ["axis": .int(1)], [x], opset: 11)  // coerced to 2-D: over axes 1 and 2 together
        }
        try check("ReduceSum", ["keepdims": .int(0)], [x, ints([0, 2])], checked: [0])
        try check("ReduceMean", ["axes": .ints([1])], [x], opset: 13)
        try check("ReduceMean", [:], [x], opset: 18)
        try check("ReduceMax", ["axes": .ints([2]), "keepdims": .int(0)], [random.distinct([2, 3, 4])], opset: 13)
    }

    func testDataMovement() throws {
        let x = random.tensor([2, 3, 4])
        try check("Concat", ["axis": .int(1)], [x, random.tensor([2, 2, 4]), random.tensor([2, 1, 4])])
        try check("Split", ["axis": .int(2)], [x, ints([1, 3])], checked: [0], outputs: 2, output: 0)
        try check("Split", ["axis": .int(2)], [x, ints([1, 3])], checked: [0], outputs: 2, output: 1)
        try check("Slice", [:], [x, ints([0, 3]), ints([2, -5]), ints([1, 2]), ints([1, -2])], checked: [0])
        try check("Reshape", [:], [x, ints([4, -1])], checked: [0])
        try check("Flatten", ["axis": .int(2)], [x])
        try check("Transpose", ["perm": .ints([2, 0, 1])], [x])
        try check("Unsqueeze", [:], [x, ints([1])], checked: [0])
        try check("Squeeze", [:], [random.tensor([2, 1, 3]), ints([1])], checked: [0])
        for mode in ["constant", "reflect", "edge", "wrap"] {
            try check("Pad", ["mode": .string(mode)], [x, ints([0, 1, 2, 0, 2, 1])], checked: [0], opset: 19)
        }
        try check("Expand", [:], [random.tensor([3, 1]), ints([2, 3, 4])], checked: [0])
        try check("Gather", ["axis": .int(1)], [x, Tensor(shape: [2, 2], integers: [0, 2, 2, -1])], checked: [0])
        try check("Identity", [:], [x])
        try check("Dropout", [:], [x], opset: 13)
    }

    func testResize() throws {
        let x = random.tensor([1, 2, 3, 4])
        let scales = Tensor(shape: [4], floats: [1, 1, 2, 1.5])
        for mode in ["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"] {
            try check("Resize", ["mode": .string("linear"), "coordinate_transformation_mode": .string(mode)], [x, nil, scales],
                      checked: [0], opset: 13)
        }
        try check("Resize", ["mode": .string("nearest")], [x, nil, scales], checked: [0], opset: 13)
        try check("Resize", ["mode": .string("linear")], [x, nil, Tensor(shape: [4], floats: [1, 1, 0.6, 0.5])], checked: [0], opset: 13)
    }
}
