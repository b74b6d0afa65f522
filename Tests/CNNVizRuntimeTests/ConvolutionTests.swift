import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Conv against a direct six-loop evaluation of its definition in Double, on seeded random
/// inputs, covering the paths the conformance files are too small to reach: column tiling of
/// large im2col matrices, 1×1 GEMM without unfolding, depthwise, groups, dilation, asymmetric
/// pads, batch > 1, the fused Conv → Relu, and Winograd F(2×2, 3×3) for 3×3 stride-1 convs
/// with at least 16 input channels and 128 output tiles over the batch.
final class ConvolutionTests: EngineTestCase {
    struct Generator {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        mutating func tensor(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in next() })
        }
    }

    /// y[n,m,oy,ox] = b[m] + Σ_{c,ky,kx} w[m,c,ky,kx]·x[n, g·C/G + c, oy·s − p + ky·d, ox·s − p + kx·d].
    func reference(_ x: Tensor, _ w: Tensor, _ b: [Float], stride: [Int], pads: [Int], dilation: [Int], group: Int) -> ([Int], [Double]) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = (h + pads[0] + pads[2] - (kh - 1) * dilation[0] - 1) / stride[0] + 1
        let ow = (wd + pads[1] + pads[3] - (kw - 1) * dilation[1] - 1) / stride[1] + 1
        let xv = x.floats, wv = w.floats
        var y = [Double](repeating: 0, count: n * m * oh * ow)
        let mg = m / group
        for image in 0..<n { for oc in 0..<m { for oy in 0..<oh { for ox in 0..<ow {
            var sum = Double(b[oc])
            let g = oc / mg
            for ic in 0..<cg { for ky in 0..<kh { for kx in 0..<kw {
                let iy = oy * stride[0] - pads[0] + ky * dilation[0], ix = ox * stride[1] - pads[1] + kx * dilation[1]
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                sum += Double(wv[((oc * cg + ic) * kh + ky) * kw + kx]) * Double(xv[((image * c + g * cg + ic) * h + iy) * wd + ix])
            } } }
            y[((image * m + oc) * oh + oy) * ow + ox] = sum
        } } } }
        return ([n, m, oh, ow], y)
    }

    func check(input: [Int], weight: [Int], stride: [Int], pads: [Int], dilation: [Int], group: Int, relu: Bool = false) throws {
        var random = Generator(state: UInt64(input.reduce(7, *) &+ weight.reduce(3, *)))
        let x = random.tensor(input), w = random.tensor(weight)
        let b = (0..<weight[0]).map { _ in random.next() }
        let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: [
            "strides": .ints(stride), "pads": .ints(pads), "dilations": .ints(dilation), "group": .int(group),
        ])
        var nodes = [node]
        if relu { nodes.append(Node(name: "relu", opType: "Relu", inputs: ["y"], outputs: ["z"])) }
        let graph = Graph(name: "conv", nodes: nodes, initializers: ["w": w, "b": Tensor(shape: [b.count], floats: b)],
                          inputs: [ValueInfo(name: "x", elementType: .float32, shape: input)],
                          outputs: [ValueInfo(name: relu ? "z" : "y", elementType: .float32, shape: nil)])
        let session = try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
        let result = try session.run(["x": x])[relu ? "z" : "y"]!
        var (shape, expected) = reference(x, w, b, stride: stride, pads: pads, dilation: dilation, group: group)
        if relu { expected = expected.map { max($0, 0) } }
        XCTAssertEqual(result.shape, shape)
        let actual = result.floats
        for i in expected.indices where abs(Double(actual[i]) - expected[i]) > 1e-4 * max(1, abs(expected[i])) {
            return XCTFail("Conv \(input)*\(weight) stride \(stride) pads \(pads) dilation \(dilation) group \(group): index \(i) is \(actual[i]), expected \(expected[i])")
        }
    }

    func testDenseConvolutions() throws {
        try check(input: [2, 3, 17, 13], weight: [8, 3, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1)
        try check(input: [1, 4, 15, 16], weight: [6, 4, 3, 5], stride: [2, 3], pads: [0, 2, 1, 1], dilation: [2, 1], group: 1)
        try check(input: [1, 6, 9, 9], weight: [4, 3, 3, 3], stride: [1, 2], pads: [1, 0, 1, 0], dilation: [1, 1], group: 2)
        try check(input: [2, 8, 7, 5], weight: [5, 8, 1, 1], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], group: 1, relu: true)
        // 1×1 convs of a batch (256 input channels), and grouped ones.
        try check(input: [4, 256, 40, 40], weight: [8, 256, 1, 1], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], group: 1, relu: true)
        try check(input: [5, 8, 9, 9], weight: [6, 4, 1, 1], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], group: 2)
    }

    func testLargeConvolutionUsesSeveralColumnTiles() throws {
        // K·oh·ow = 64·9·64·64 floats, above the 2²¹-float im2col budget.
        try check(input: [1, 64, 64, 64], weight: [16, 64, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1, relu: true)
    }

    func testWinogradConvolutions() throws {
        // Odd output sizes (a half-empty last tile row and column), asymmetric pads, batch 2, ReLU.
        try check(input: [2, 64, 31, 27], weight: [7, 64, 3, 3], stride: [1, 1], pads: [1, 0, 2, 1], dilation: [1, 1], group: 1, relu: true)
        try check(input: [1, 70, 30, 30], weight: [4, 70, 3, 3], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], group: 1)
        // 16 channels, the fewest that take Winograd.
        try check(input: [2, 16, 30, 29], weight: [24, 16, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1, relu: true)
        // Rows of 20 tiles: two full groups of eight and a short one, stored column by column.
        try check(input: [1, 64, 20, 40], weight: [5, 64, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1)
    }

    /// Tile rows are numbered across the batch, so with small planes a chunk spans images; with
    /// many chunks each worker takes whole chunks, with few the steps are split.
    func testWinogradChunksSpanImages() throws {
        // 40 images of 5 × 4 tiles: 200 tile rows in several chunks whose edges fall inside images.
        try check(input: [40, 64, 9, 7], weight: [16, 64, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1, relu: true)
        // 3 images of 7 × 7 tiles: one chunk of 21 rows, every group shorter than eight tiles.
        try check(input: [3, 64, 14, 14], weight: [32, 64, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1)
        // Rows of 2 tiles, whose groups of eight would spill past several rows: one chunk
        // split across the workers, then several chunks taken whole.
        try check(input: [40, 16, 4, 4], weight: [8, 16, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1)
        try check(input: [200, 16, 4, 3], weight: [8, 16, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1)
    }

    /// The transformed filters are kept between runs; new weights must replace them.
    func testWinogradFollowsChangedWeights() throws {
        let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["pads": .ints([1, 1, 1, 1])])
        let graph = Graph(name: "conv", nodes: [node], initializers: [:],
                          inputs: [ValueInfo(name: "x", elementType: .float32, shape: [1, 64, 24, 24]),
                                   ValueInfo(name: "w", elementType: .float32, shape: [4, 64, 3, 3])],
                          outputs: [ValueInfo(name: "y", elementType: .float32, shape: nil)])
        let session = try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: 13))
        var random = Generator(state: 11)
        let x = random.tensor([1, 64, 24, 24])
        for _ in 0..<3 {
            let w = random.tensor([4, 64, 3, 3])
            let y = try session.run(["x": x, "w": w])["y"]!.floats
            let (_, expected) = reference(x, w, [0, 0, 0, 0], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1)
            for i in expected.indices where abs(Double(y[i]) - expected[i]) > 1e-4 * max(1, abs(expected[i])) {
                return XCTFail("index \(i) is \(y[i]), expected \(expected[i]) for the new weights")
            }
        }
    }

    /// Up to 4 input channels take the direct kernel: 4 output channels × 16 columns at a time,
    /// so odd channel counts and row ends exercise the partial blocks.
    func testFewInputChannelConvolutions() throws {
        try check(input: [2, 3, 23, 21], weight: [13, 3, 3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], group: 1, relu: true)
        try check(input: [1, 3, 30, 29], weight: [16, 3, 7, 7], stride: [2, 2], pads: [3, 3, 3, 3], dilation: [1, 1], group: 1)
        try check(input: [1, 1, 28, 28], weight: [8, 1, 5, 5], stride: [1, 1], pads: [2, 2, 2, 2], dilation: [1, 1], group: 1)
        try check(input: [1, 4, 17, 19], weight: [5, 4, 3, 2], stride: [3, 1], pads: [0, 2, 1, 0], dilation: [2, 3], group: 1)
    }

    func testDepthwiseConvolutions() throws {
        try check(input: [2, 5, 12, 11], weight: [5, 1, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 5)
        try check(input: [1, 4, 13, 14], weight: [4, 1, 3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], group: 4, relu: true)
        try check(input: [1, 3, 10, 10], weight: [3, 1, 5, 3], stride: [1, 2], pads: [2, 0, 1, 2], dilation: [2, 1], group: 3)
        // Planes above 32×32 take the row kernel instead of the interleaved one.
        try check(input: [1, 3, 40, 36], weight: [3, 1, 3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], group: 3, relu: true)
        try check(input: [2, 4, 33, 35], weight: [4, 1, 3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], group: 4)
        try check(input: [1, 2, 37, 41], weight: [2, 1, 5, 3], stride: [3, 2], pads: [2, 0, 1, 2], dilation: [1, 2], group: 2)
    }
}
