import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// A ReLU whose only consumer is a Concat or a MaxPool has its mask applied by that consumer's
/// backward, and its own pass skipped. The gradients must be the closed forms of the unfused
/// graph: g·[x > 0] through the ReLU, including max-pool windows whose maximum is 0 (the ReLU
/// zeroed the pixel the pool picked), and the fusion must step aside wherever ∂L/∂y is
/// observed or the ReLU's rule is not g·[y > 0].
final class RectifierMaskingTests: EngineTestCase {
    func session(_ nodes: [Node], weights: Tensor, inputs: [ValueInfo]) throws -> Session {
        let graph = Graph(name: "masking", nodes: nodes + [Node(name: "mul", opType: "Mul", inputs: [nodes.last!.outputs[0], "w"], outputs: ["y"])],
                          initializers: ["w": weights], inputs: inputs,
                          outputs: [ValueInfo(name: "y", elementType: .float32, shape: weights.shape)])
        return try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
    }

    /// x → Relu → MaxPool 3×3 stride 2 → ·w, L = Σ: each window sends w to the first maximum
    /// of relu(x) in row-major order when that maximum is > 0, and nothing otherwise. Rows of
    /// 41 run the eight-window path and its scalar tail; most values are negative, so many
    /// windows are all zero after the ReLU.
    func testMaxPoolAppliesTheMaskOfItsRelu() throws {
        let (height, width) = (5, 41), (outHeight, outWidth) = (2, 20)
        var random = SeededRandom(state: 21)
        let x = random.tensor([1, 1, height, width]).floats.map { $0 - 0.8 }
        let w = random.tensor([1, 1, outHeight, outWidth])
        let session = try session([
            Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["r"]),
            Node(name: "pool", opType: "MaxPool", inputs: ["r"], outputs: ["p"],
                 attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])]),
        ], weights: w, inputs: [ValueInfo(name: "x", elementType: .float32, shape: [1, 1, height, width])])
        let (_, expected, zeroWindows) = maxPoolClosedForm(x, height: height, width: width, weights: w.floats, rectified: true)
        XCTAssertGreaterThan(zeroWindows, 3, "the input should leave some windows all zero after the ReLU")
        let feeds = ["x": Tensor(shape: [1, 1, height, width], floats: x)]
        let result = try session.gradients(feeds, seed: GradientSeed(output: "y", kind: .sum), wrt: ["x"])
        XCTAssertEqual(result.gradients["x"]?.floats, expected)

        // Asking for ∂L/∂r as well shows the pool's unmasked gradient there: w at every
        // window's first maximum of r, the zero windows' first pixel included.
        let observed = try session.gradients(feeds, seed: GradientSeed(output: "y", kind: .sum), wrt: ["x", "r"])
        XCTAssertEqual(observed.gradients["x"]?.floats, expected)
        let atZeroWindows = zip(observed.gradients["r"]!.floats, expected).filter { $0 != 0 && $1 == 0 }.count
        XCTAssertEqual(atZeroWindows, zeroWindows)
    }

    /// x₁ → Relu → Concat(r₁, x₂) → ·w, L = Σ: ∂L/∂x₁ = w₁·[x₁ > 0] and ∂L/∂x₂ = w₂ under the
    /// standard rule; w₁·[w₁ > 0] under deconvnet, w₁ when the ReLU passes straight through,
    /// and ∂L/∂r₁ = w₁ when it is requested.
    func testConcatAppliesTheMaskOfItsRelu() throws {
        var random = SeededRandom(state: 22)
        let x1 = random.tensor([2, 20]), x2 = random.tensor([2, 3]), w = random.tensor([2, 23])
        let session = try session([
            Node(name: "relu", opType: "Relu", inputs: ["x1"], outputs: ["r1"]),
            Node(name: "concat", opType: "Concat", inputs: ["r1", "x2"], outputs: ["c"], attributes: ["axis": .int(1)]),
        ], weights: w, inputs: [ValueInfo(name: "x1", elementType: .float32, shape: [2, 20]),
                                ValueInfo(name: "x2", elementType: .float32, shape: [2, 3])])
        let w1 = (0..<2).flatMap { n in w.floats[(n * 23)..<(n * 23 + 20)] }
        let w2 = (0..<2).flatMap { n in w.floats[(n * 23 + 20)..<(n * 23 + 23)] }
        XCTAssertTrue(x1.floats.contains { $0 < 0 } && x1.floats.contains { $0 > 0 })
        let feeds = ["x1": x1, "x2": x2], sum = GradientSeed(output: "y", kind: .sum)

        let standard = try session.gradients(feeds, seed: sum, wrt: ["x1", "x2"])
        XCTAssertEqual(standard.gradients["x1"]?.floats, zip(w1, x1.floats).map { $1 > 0 ? $0 : 0 })
        XCTAssertEqual(standard.gradients["x2"]?.floats, w2)

        let deconvnet = try session.gradients(feeds, seed: sum, wrt: ["x1"], rules: ReluGradientMode.deconvnet.rules)
        XCTAssertEqual(deconvnet.gradients["x1"]?.floats, w1.map { $0 > 0 ? $0 : 0 })

        let straight = try session.gradients(feeds, seed: sum, wrt: ["x1"], straightThrough: ["r1"])
        XCTAssertEqual(straight.gradients["x1"]?.floats, w1)

        let observed = try session.gradients(feeds, seed: sum, wrt: ["x1", "r1"])
        XCTAssertEqual(observed.gradients["r1"]?.floats, w1)
        XCTAssertEqual(observed.gradients["x1"]?.floats, standard.gradients["x1"]?.floats)
    }
}

/// 3×3 stride-2 max pooling of one plane (no padding) in closed form: the pooled values, and
/// ∂L/∂x for L = Σ weights ⊙ pooled, where each window's weight goes to its first maximum in
/// row-major order. With `rectified` the plane is relu(x): a window whose maximum is 0 sends
/// nothing (the ReLU zeroed the pixel it picked); `zeroWindows` counts those windows.
func maxPoolClosedForm(_ x: [Float], height: Int, width: Int, weights: [Float], rectified: Bool)
    -> (pooled: [Float], gradient: [Float], zeroWindows: Int) {
    let (outHeight, outWidth) = ((height - 3) / 2 + 1, (width - 3) / 2 + 1)
    var pooled = [Float](), gradient = [Float](repeating: 0, count: height * width), zeroWindows = 0
    for oy in 0..<outHeight {
        for ox in 0..<outWidth {
            var best = -Float.infinity, at = 0
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let offset = (2 * oy + ky) * width + 2 * ox + kx
                    let value = rectified ? max(x[offset], 0) : x[offset]
                    if value > best { (best, at) = (value, offset) }
                }
            }
            pooled.append(best)
            if rectified && best <= 0 { zeroWindows += 1 } else { gradient[at] += weights[oy * outWidth + ox] }
        }
    }
    return (pooled, gradient, zeroWindows)
}
