/// CenterCropPad: each of `axes` (default all) is cropped or zero-padded to the length in
/// `shape`, centred: a crop drops ⌊(d − t)/2⌋ at the start, a pad adds ⌊(t − d)/2⌋ there.
/// Backward: `ElementCopying`.
struct CenterCropPad: ElementCopying {
    let axes: [Int]?

    init(node: Node) throws { axes = try node.ints("axes") }

    func sources(_ shape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
        let lengths = try inputs.required(1, "shape").integers.map { Int($0) }
        let axes = try (self.axes ?? Array(0..<shape.count)).map { try Shape.normalizedAxis($0, rank: shape.count) }
        guard lengths.count == axes.count, lengths.allSatisfy({ $0 >= 0 }) else {
            throw CNNVizError(.shapeMismatch, "CenterCropPad's shape \(lengths) must give one length per axis in \(axes)")
        }
        var outShape = shape, shift = [Int](repeating: 0, count: shape.count)
        for (axis, length) in zip(axes, lengths) {
            outShape[axis] = length
            shift[axis] = length <= shape[axis] ? (shape[axis] - length) / 2 : -((length - shape[axis]) / 2)
        }
        _ = try Shape.checkedCount(outShape)
        let strides = Shape.strides(shape)
        var index = [Int](repeating: 0, count: shape.count), source = [Int]()
        for _ in 0..<outShape.reduce(1, *) {
            var offset = 0, inside = true
            for a in 0..<shape.count {
                let p = index[a] + shift[a]
                if p < 0 || p >= shape[a] { inside = false }
                offset += p * strides[a]
            }
            source.append(inside ? offset : -1)
            Shape.advance(&index, in: outShape)
        }
        return (source, outShape)
    }
}
