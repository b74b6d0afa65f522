/// Tile: the input repeated `repeats[axis]` times along each axis; output dim = dim · repeat.
///
/// Backward: each input element collects the gradient of all its copies (`ElementCopying`).
struct Tile: ElementCopying {
    func sources(_ shape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
        let repeats = try inputs.required(1, "repeats").integers.map { Int($0) }
        guard repeats.count == shape.count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw CNNVizError(.shapeMismatch, "Tile's repeats \(repeats) must hold one non-negative count per axis of the input \(shape)")
        }
        let outShape = zip(shape, repeats).map { $0 * $1 }
        _ = try Shape.checkedCount(outShape)
        let strides = Shape.strides(shape)
        var index = [Int](repeating: 0, count: shape.count), source = [Int]()
        for _ in 0..<outShape.reduce(1, *) {
            var offset = 0
            for axis in 0..<shape.count { offset += (index[axis] % shape[axis]) * strides[axis] }
            source.append(offset)
            Shape.advance(&index, in: outShape)
        }
        return (source, outShape)
    }
}
