/// Tile: the input repeated `repeats[axis]` times along each axis; output dim = dim · repeat.
///
/// Backward: each input element collects the gradient of all its copies.
struct Tile: Operator, Differentiable {
    func plan(_ shape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
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

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let (source, shape) = try plan(x.shape, inputs)
        return [x.picking(source, shape: shape)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let shape = try context.inputShape(0, "input")
        let (source, _) = try plan(shape, context.inputs)
        return [try context.outputGradient.scatterAdding(to: source, shape: shape), nil]
    }
}
