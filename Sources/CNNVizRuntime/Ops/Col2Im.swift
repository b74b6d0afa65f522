/// Col2Im: the adjoint of im2col. input [N, C·∏block, L] holds, for each of the L block
/// positions (row-major over the output grid of a convolution with these strides, pads and
/// dilations), the C·∏block values of one block; they are summed back into an image
/// [N, C, *image_shape]. Values that land in the padding are dropped.
/// Backward: each input element reads the gradient at the pixel it was summed into.
struct Col2Im: Operator, Differentiable {
    let dilations: [Int]?, pads: [Int]?, strides: [Int]?

    init(node: Node) throws {
        dilations = try node.ints("dilations")
        pads = try node.ints("pads")
        strides = try node.ints("strides")
    }

    /// For every input element, the flat output index it adds into (−1 in the padding), and the output shape.
    func targets(_ shape: [Int], _ inputs: [Tensor?]) throws -> (target: [Int], shape: [Int]) {
        let image = try inputs.required(1, "image_shape").integers.map { Int($0) }
        let block = try inputs.required(2, "block_shape").integers.map { Int($0) }
        let k = image.count
        let dilations = self.dilations ?? Array(repeating: 1, count: k), strides = self.strides ?? Array(repeating: 1, count: k)
        let pads = self.pads ?? Array(repeating: 0, count: 2 * k)
        _ = try Shape.checkedCount(image)
        let blockCount = try Shape.checkedCount(block)
        guard dilations.count == k, strides.count == k, pads.count == 2 * k, (dilations + strides).allSatisfy({ $0 > 0 && $0 < 1 << 20 }),
              pads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else {
            throw CNNVizError(.invalidAttribute, "Col2Im needs \(k) positive strides and dilations and \(2 * k) non-negative pads, found \(strides), \(dilations), \(pads)")
        }
        guard shape.count == 3, block.count == k, blockCount > 0, shape[1] % blockCount == 0 else {
            throw CNNVizError(.shapeMismatch, "Col2Im needs input [N, C·∏block, L] with block_shape \(block), found \(shape)")
        }
        let grid = (0..<k).map { a -> Int in
            let span: Int = dilations[a] * (block[a] - 1) + 1
            return (image[a] + pads[a] + pads[a + k] - span) / strides[a] + 1
        }
        guard grid.reduce(1, *) == shape[2] else {
            throw CNNVizError(.shapeMismatch, "Col2Im's input has \(shape[2]) blocks; image_shape \(image) with these block, strides, pads and dilations gives \(grid.reduce(1, *))")
        }
        let (n, channels) = (shape[0], shape[1] / blockCount)
        _ = try Shape.checkedCount([n, channels] + image)
        let imageStrides = Shape.strides(image), plane = image.reduce(1, *)
        var target = [Int](), blockIndex = [Int](repeating: 0, count: k)
        target.reserveCapacity(shape.reduce(1, *))
        for batch in 0..<n {
            for c in 0..<channels {
                blockIndex = [Int](repeating: 0, count: k)
                for _ in 0..<blockCount {
                    var position = [Int](repeating: 0, count: k)
                    for _ in 0..<shape[2] {
                        var offset = 0, inside = true
                        for a in 0..<k {
                            let p = position[a] * strides[a] - pads[a] + blockIndex[a] * dilations[a]
                            if p < 0 || p >= image[a] { inside = false }
                            offset += p * imageStrides[a]
                        }
                        target.append(inside ? (batch * channels + c) * plane + offset : -1)
                        Shape.advance(&position, in: grid)
                    }
                    Shape.advance(&blockIndex, in: block)
                }
            }
        }
        return (target, [n, channels] + image)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "input")
        let (target, shape) = try targets(x.shape, inputs)
        return [x.scatterAdding(to: target, shape: shape)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let shape = try context.inputShape(0, "input")
        let (target, _) = try targets(shape, context.inputs)
        return [try context.outputGradient.picking(target, shape: shape), nil, nil]
    }
}
