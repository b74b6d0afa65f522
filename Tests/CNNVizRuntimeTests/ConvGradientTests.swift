import CNNVizRuntime
import CNNVizTestSupport
import XCTest

/// Conv and ConvTranspose VJPs (input, weights, bias) against central finite differences.
final class ConvGradientTests: EngineTestCase {
    func conv(_ x: [Int], _ w: [Int], _ attributes: [String: Attribute], bias: Bool = true, seed: UInt64 = 1) throws {
        var random = SeededRandom(state: seed)
        let b: Tensor? = bias ? random.tensor([w[0]]) : nil
        let check = GradientCheck(opType: "Conv", attributes: attributes, inputs: [random.tensor(x), random.tensor(w), b],
                                  checked: bias ? [0, 1, 2] : [0, 1])
        try check.run(seed: seed)
    }

    func testStrideOnePaddedTakesTheTransposedConv() throws {
        try conv([2, 3, 6, 5], [4, 3, 3, 3], ["pads": .ints([1, 1, 1, 1])])
    }

    func testStrideTwoWithPaddingTakesCol2Im() throws {
        try conv([1, 3, 7, 7], [4, 3, 3, 3], ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])
        try conv([1, 2, 8, 9], [3, 2, 2, 3], ["strides": .ints([2, 3]), "pads": .ints([0, 1, 1, 2])], bias: false)
    }

    /// A batch scatters whole (image, group) planes per worker, a band of output rows at a time.
    func testStridedBatchScattersPlanesPerWorker() throws {
        try conv([5, 3, 9, 8], [4, 3, 3, 3], ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])
        try conv([2, 4, 7, 7], [6, 2, 2, 3], ["group": .int(2), "strides": .ints([2, 1]), "pads": .ints([0, 1, 1, 1])], bias: false)
        // 144 × 1000 columns per output row: one row per band, six bands per plane.
        try conv([4, 16, 11, 2000], [3, 16, 3, 3], ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], bias: false)
    }

    func testGroupsAndDepthwise() throws {
        try conv([1, 4, 6, 6], [6, 2, 3, 3], ["group": .int(2), "pads": .ints([1, 1, 1, 1])])
        try conv([2, 3, 7, 6], [3, 1, 3, 3], ["group": .int(3), "pads": .ints([1, 1, 1, 1])])
        try conv([1, 3, 7, 7], [3, 1, 3, 3], ["group": .int(3), "strides": .ints([2, 2]), "pads": .ints([1, 0, 1, 1])])
    }

    func testDilationAsymmetricPadsAndAutoPad() throws {
        try conv([1, 2, 9, 8], [3, 2, 3, 3], ["dilations": .ints([2, 2]), "pads": .ints([2, 1, 0, 2])])
        try conv([1, 2, 7, 8], [2, 2, 3, 3], ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])])
        try conv([1, 2, 7, 8], [2, 2, 4, 4], ["auto_pad": .string("SAME_LOWER")])
        try conv([1, 2, 6, 6], [3, 2, 5, 5], ["pads": .ints([4, 0, 0, 4])])  // pads ≥ the extent − 1 on one side
    }

    func testOneDimensionalAndPointwise() throws {
        try conv([2, 3, 11], [4, 3, 3], ["strides": .ints([2]), "pads": .ints([1, 2])])
        try conv([1, 5, 4, 4], [3, 5, 1, 1], [:])
        // A batch: whole products shared out across the workers.
        try conv([4, 5, 4, 3], [3, 5, 1, 1], [:])
        try conv([2, 4, 3, 3], [6, 2, 1, 1], ["group": .int(2)], bias: false)
    }

    /// 3×3 stride 1 with ≥ 16 channels and ≥ 128 output tiles: the input gradient runs through Winograd.
    func testWinogradSizedConv() throws {
        var random = SeededRandom(state: 5)
        let check = GradientCheck(opType: "Conv", attributes: ["pads": .ints([1, 1, 1, 1])],
                                  inputs: [random.tensor([1, 64, 24, 24], scale: 0.2), random.tensor([64, 64, 3, 3], scale: 0.1), nil],
                                  checked: [0, 1])
        try check.run(probes: 12)
    }

    func testConvTranspose() throws {
        var random = SeededRandom(state: 3)
        for (x, w, group, attributes) in [
            ([1, 2, 4, 5], [2, 3, 3, 3], 1, ["strides": Attribute.ints([2, 2]), "pads": .ints([1, 0, 1, 1])]),
            ([2, 4, 3, 3], [4, 1, 3, 2], 2, ["group": .int(2), "output_padding": .ints([1, 0]), "strides": .ints([2, 1])]),
            ([1, 2, 5], [2, 2, 3], 1, ["dilations": .ints([2])]),
        ] {
            let check = GradientCheck(opType: "ConvTranspose", attributes: attributes,
                                      inputs: [random.tensor(x), random.tensor(w), random.tensor([w[1] * group])], checked: [0, 1, 2])
            try check.run()
        }
    }
}
