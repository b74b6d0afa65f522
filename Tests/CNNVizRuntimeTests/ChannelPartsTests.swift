import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// A MaxPool that is a Concat's only consumer pools the Concat's inputs part by part, and its
/// gradient lands in each part, with no concatenated tensor either way. Forward values and
/// gradients must be the closed forms of pooling the concatenation, whether or not the
/// concatenation is built (asking for it builds it). A Concat into a 1×1 conv is built, with
/// the ReLU's mask applied by the Concat.
final class ChannelPartsTests: EngineTestCase {
    /// x₁ → Relu → Concat(r₁, x₂) → MaxPool 3×3 stride 2 → ·w, L = Σ.
    func session(parts: [[Int]], kernel: [Int], strides: [Int], outputShape: [Int], weights: Tensor) throws -> Session {
        let graph = Graph(name: "concat-pool", nodes: [
            Node(name: "relu", opType: "Relu", inputs: ["x1"], outputs: ["r1"]),
            Node(name: "concat", opType: "Concat", inputs: ["r1", "x2"], outputs: ["c"], attributes: ["axis": .int(1)]),
            Node(name: "pool", opType: "MaxPool", inputs: ["c"], outputs: ["p"],
                 attributes: ["kernel_shape": .ints(kernel), "strides": .ints(strides)]),
            Node(name: "mul", opType: "Mul", inputs: ["p", "w"], outputs: ["y"]),
        ], initializers: ["w": weights],
           inputs: [ValueInfo(name: "x1", elementType: .float32, shape: parts[0]), ValueInfo(name: "x2", elementType: .float32, shape: parts[1])],
           outputs: [ValueInfo(name: "y", elementType: .float32, shape: outputShape)])
        return try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
    }

    func testMaxPoolReadsTheConcatenatedParts() throws {
        let (batch, height, width) = (2, 5, 41), (outHeight, outWidth) = (2, 20)
        let (inPlane, outPlane) = (height * width, outHeight * outWidth)
        var random = SeededRandom(state: 31)
        let x1 = random.tensor([batch, 2, height, width]).floats.map { $0 - 0.7 }
        let x2 = random.tensor([batch, 3, height, width]).floats.map { $0 - 0.7 }
        let w = random.tensor([batch, 5, outHeight, outWidth])
        let session = try session(parts: [[batch, 2, height, width], [batch, 3, height, width]], kernel: [3, 3], strides: [2, 2],
                                  outputShape: [batch, 5, outHeight, outWidth], weights: w)
        // Plane by plane: channels 0–1 are relu(x₁), 2–4 are x₂ (negative maxima included).
        var pooled = [Float](), expected1 = [Float](), expected2 = [Float](), concatGradient = [Float]()
        for n in 0..<batch {
            for channel in 0..<5 {
                let rectified = channel < 2
                let plane = rectified ? Array(x1[((n * 2 + channel) * inPlane)..<((n * 2 + channel + 1) * inPlane)])
                                      : Array(x2[((n * 3 + channel - 2) * inPlane)..<((n * 3 + channel - 1) * inPlane)])
                let weights = Array(w.floats[((n * 5 + channel) * outPlane)..<((n * 5 + channel + 1) * outPlane)])
                let form = maxPoolClosedForm(plane, height: height, width: width, weights: weights, rectified: rectified)
                pooled += form.pooled
                if rectified { expected1 += form.gradient } else { expected2 += form.gradient }
                let unmasked = maxPoolClosedForm(rectified ? plane.map { max($0, 0) } : plane, height: height, width: width,
                                                 weights: weights, rectified: false)
                concatGradient += unmasked.gradient
            }
        }
        let feeds = ["x1": Tensor(shape: [batch, 2, height, width], floats: x1), "x2": Tensor(shape: [batch, 3, height, width], floats: x2)]
        XCTAssertEqual(try session.run(feeds, outputs: ["p"])["p"]?.floats, pooled)
        let sum = GradientSeed(output: "y", kind: .sum)
        let parts = try session.gradients(feeds, seed: sum, wrt: ["x1", "x2"])
        XCTAssertEqual(parts.gradients["x1"]?.floats, expected1)
        XCTAssertEqual(parts.gradients["x2"]?.floats, expected2)

        // Asking for the concatenation builds it; the results are the same, and ∂L/∂c is the
        // pool's own gradient, before the ReLU's mask.
        let built = try session.gradients(feeds, seed: sum, wrt: ["x1", "x2", "c"], outputs: ["c"])
        XCTAssertEqual(built.outputs["c"]?.shape, [batch, 5, height, width])
        XCTAssertEqual(built.gradients["x1"]?.floats, expected1)
        XCTAssertEqual(built.gradients["x2"]?.floats, expected2)
        XCTAssertEqual(built.gradients["c"]?.floats, concatGradient)
    }

    /// Parts that the 2-D reader does not take (rank 3: a 1-D pool) run the Concat as usual.
    func testOtherPartsRunTheConcat() throws {
        let x1 = Tensor(shape: [1, 1, 7], floats: [-1, 2, -3, 4, 0.5, -6, 1])
        let x2 = Tensor(shape: [1, 1, 7], floats: [-5, -4, -3, -2, -9, -8, -7])
        let w = Tensor(shape: [1, 2, 3], floats: [1, 2, 3, 4, 5, 6])
        let session = try session(parts: [[1, 1, 7], [1, 1, 7]], kernel: [3], strides: [2], outputShape: [1, 2, 3], weights: w)
        let feeds = ["x1": x1, "x2": x2]
        // Windows [0, 3), [2, 5), [4, 7): relu(x₁) maxima 2, 4, 1 at 1, 3, 6; x₂ maxima −3, −2, −7 at 2, 3, 6.
        XCTAssertEqual(try session.run(feeds, outputs: ["p"])["p"]?.floats, [2, 4, 1, -3, -2, -7])
        let result = try session.gradients(feeds, seed: GradientSeed(output: "y", kind: .sum), wrt: ["x1", "x2"])
        XCTAssertEqual(result.gradients["x1"]?.floats, [0, 1, 0, 2, 0, 0, 3])
        XCTAssertEqual(result.gradients["x2"]?.floats, [0, 0, 4, 5, 0, 0, 6])
    }

    /// x₁ → Relu → Concat(r₁, x₂) → 1×1 Conv (+ b) → Relu → ·v, L = Σ, against the closed form
    /// in Double: with c = [relu(x₁); x₂] and h = W·c + b per pixel, y = relu(h), and
    /// ∂L/∂c = Wᵀ·(v ⊙ [h > 0]), masked by [x₁ > 0] on the first part (by the Concat, for the
    /// ReLU), and ∂L/∂W = Σ over images and pixels of (v ⊙ [h > 0]) ⊗ c. A 1×1 conv is not a
    /// parts reader, so the concatenation is built; batch 4 and 1.
    func testConcatIntoPointwiseConvInClosedForm() throws {
        for batch in [4, 1] {
            let (c1, c2, m, plane) = (3, 5, 6, 7 * 9)
            var random = SeededRandom(state: 41 + UInt64(batch))
            let x1 = random.tensor([batch, c1, 7, 9]), x2 = random.tensor([batch, c2, 7, 9])
            let w = random.tensor([m, c1 + c2, 1, 1]), b = random.tensor([m]), v = random.tensor([batch, m, 7, 9])
            let graph = Graph(name: "concat-conv", nodes: [
                Node(name: "relu", opType: "Relu", inputs: ["x1"], outputs: ["r1"]),
                Node(name: "concat", opType: "Concat", inputs: ["r1", "x2"], outputs: ["c"], attributes: ["axis": .int(1)]),
                Node(name: "conv", opType: "Conv", inputs: ["c", "w", "b"], outputs: ["h"]),
                Node(name: "relu2", opType: "Relu", inputs: ["h"], outputs: ["r2"]),
                Node(name: "mul", opType: "Mul", inputs: ["r2", "v"], outputs: ["y"]),
            ], initializers: ["w": w, "b": b, "v": v],
               inputs: [ValueInfo(name: "x1", elementType: .float32, shape: x1.shape), ValueInfo(name: "x2", elementType: .float32, shape: x2.shape)],
               outputs: [ValueInfo(name: "y", elementType: .float32, shape: v.shape)])
            let session = try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
            var expectedY = [Double](), expected1 = [Double](), expected2 = [Double]()
            var expectedW = [Double](repeating: 0, count: m * (c1 + c2))
            for n in 0..<batch {
                var concatenated = [[Double]]()
                for ch in 0..<c1 { concatenated.append((0..<plane).map { Double(max(x1.floats[(n * c1 + ch) * plane + $0], 0)) }) }
                for ch in 0..<c2 { concatenated.append((0..<plane).map { Double(x2.floats[(n * c2 + ch) * plane + $0]) }) }
                var upstream = [[Double]]()
                for o in 0..<m {
                    let h = (0..<plane).map { p in Double(b.floats[o]) + (0..<(c1 + c2)).reduce(0.0) { $0 + Double(w.floats[o * (c1 + c2) + $1]) * concatenated[$1][p] } }
                    expectedY += h.map { max($0, 0) }
                    upstream.append((0..<plane).map { h[$0] > 0 ? Double(v.floats[(n * m + o) * plane + $0]) : 0 })
                    for ch in 0..<(c1 + c2) {
                        expectedW[o * (c1 + c2) + ch] += (0..<plane).reduce(0.0) { $0 + upstream[o][$1] * concatenated[ch][$1] }
                    }
                }
                for ch in 0..<(c1 + c2) {
                    let gradient = (0..<plane).map { p in (0..<m).reduce(0.0) { $0 + Double(w.floats[$1 * (c1 + c2) + ch]) * upstream[$1][p] } }
                    if ch < c1 {
                        expected1 += gradient.enumerated().map { x1.floats[(n * c1 + ch) * plane + $0] > 0 ? $1 : 0 }
                    } else {
                        expected2 += gradient
                    }
                }
            }
            let feeds = ["x1": x1, "x2": x2]
            let tolerance = Tolerance(absolute: 1e-6, relative: 1e-5)
            assertClose(try XCTUnwrap(session.run(feeds, outputs: ["r2"])["r2"]).floats, expectedY.map(Float.init), tolerance, "batch \(batch): y")
            let result = try session.gradients(feeds, seed: GradientSeed(output: "y", kind: .sum), wrt: ["x1", "x2"])
            assertClose(try XCTUnwrap(result.gradients["x1"]).floats, expected1.map(Float.init), tolerance, "batch \(batch): ∂L/∂x₁")
            assertClose(try XCTUnwrap(result.gradients["x2"]).floats, expected2.map(Float.init), tolerance, "batch \(batch): ∂L/∂x₂")
            let withWeights = try session.gradients(feeds, seed: GradientSeed(output: "y", kind: .sum), wrt: ["x1", "w"])
            assertClose(try XCTUnwrap(withWeights.gradients["x1"]).floats, expected1.map(Float.init), tolerance, "batch \(batch): ∂L/∂x₁ with ∂L/∂W")
            assertClose(try XCTUnwrap(withWeights.gradients["w"]).floats, expectedW.map(Float.init), tolerance, "batch \(batch): ∂L/∂W")
        }
    }
}
