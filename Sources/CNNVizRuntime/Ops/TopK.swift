/// TopK: the k largest (largest = 1, default) or smallest elements along `axis` (default −1),
/// with their indices (int64). k is input 1, a one-element tensor, so the output shape depends
/// on a value. sorted = 1 (default) orders them best first; equal values keep index order.
///
/// Backward: each value's gradient goes back to the position it came from.
struct TopK: Operator, Differentiable {
    let axis: Int
    let largest: Bool

    init(node: Node, opset: Int) throws {
        axis = try node.int("axis", default: -1)
        largest = try node.int("largest", default: 1) != 0
        if opset < 10 { attributeK = try node.int("k", default: 1) } else { attributeK = nil }
    }
    /// Opset 1's k attribute.
    let attributeK: Int?

    /// Flat source indices of the selected elements, the output shape and the per-axis indices.
    func plan(_ x: Tensor, _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int], indices: [Int64]) {
        let axis = try Shape.normalizedAxis(axis, rank: x.rank)
        let k = try attributeK ?? Int(inputs.required(1, "K").integers.first ?? -1)
        guard k >= 0, k <= x.shape[axis] else {
            throw CNNVizError(.invalidArgument, "TopK's k = \(k) must lie in 0…\(x.shape[axis]), the length of axis \(axis) of \(x.shape)")
        }
        let (outer, length, inner) = Shape.around(x.shape, axis: axis)
        let values = x.floats
        var shape = x.shape
        shape[axis] = k
        var source = [Int](repeating: 0, count: outer * k * inner), indices = [Int64](repeating: 0, count: source.count)
        for o in 0..<outer {
            for j in 0..<inner {
                let order = (0..<length).sorted { a, b in
                    let (va, vb) = (values[(o * length + a) * inner + j], values[(o * length + b) * inner + j])
                    return va == vb ? a < b : (largest ? va > vb : va < vb)
                }
                for r in 0..<k {
                    source[(o * k + r) * inner + j] = (o * length + order[r]) * inner + j
                    indices[(o * k + r) * inner + j] = Int64(order[r])
                }
            }
        }
        return (source, shape, indices)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let (source, shape, indices) = try plan(x, inputs)
        return [x.picking(source, shape: shape), Tensor(shape: shape, integers: indices)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X")
        let (source, shape, _) = try plan(x, context.inputs)
        return [context.gradient(0, shape: shape).scatterAdding(to: source, shape: x.shape), nil]
    }
}

/// NonZero: the indices of the non-zero elements, as a [rank, count] int64 tensor in
/// row-major order (`np.nonzero` stacked). The output shape depends on the values.
struct NonZero: Operator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let rank = x.rank
        var hits = [[Int]]()
        var index = [Int](repeating: 0, count: rank)
        let nonZero: (Int) -> Bool
        switch x.storage {
        case .float(let values): nonZero = { values[$0] != 0 }
        case .integer(let values): nonZero = { values[$0] != 0 }
        }
        for flat in 0..<x.count {
            if nonZero(flat) { hits.append(index) }
            Shape.advance(&index, in: x.shape)
        }
        if rank == 0 { return [Tensor(shape: [0, hits.count], integers: [])] }
        let values = (0..<rank).flatMap { axis in hits.map { Int64($0[axis]) } }
        return [Tensor(shape: [rank, hits.count], integers: values)]
    }
}

/// OneHot: for indices of shape S, an output of shape S with `depth` inserted at `axis`
/// (default −1), holding values[1] at each index and values[0] elsewhere. Negative indices
/// count from the end (index + depth); indices outside [−depth, depth) give an all-off row.
struct OneHot: Operator {
    let axis: Int

    init(node: Node) throws { axis = try node.int("axis", default: -1) }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let indices = try inputs.required(0, "indices"), depthTensor = try inputs.required(1, "depth")
        let values = try inputs.required(2, "values")
        guard depthTensor.count == 1, values.count == 2 else {
            throw CNNVizError(.shapeMismatch, "OneHot needs a one-element depth and two values (off, on), found \(depthTensor.shape) and \(values.shape)")
        }
        let depth = Int(depthTensor.integers[0])
        guard depth > 0, depth <= Shape.maximumCount else { throw CNNVizError(.invalidArgument, "OneHot's depth must be positive, found \(depth)") }
        let axis = try Shape.normalizedAxis(axis, rank: indices.rank + 1)
        var shape = indices.shape
        shape.insert(depth, at: axis)
        let (outer, _, inner) = Shape.around(shape, axis: axis)
        let positions = indices.integers.map { Int($0) }
        var source = [Int](repeating: 0, count: try Shape.checkedCount(shape))
        for o in 0..<outer {
            for j in 0..<inner {
                var hot = positions[o * inner + j]
                if hot < 0 { hot += depth }
                if hot >= 0 && hot < depth { source[(o * depth + hot) * inner + j] = 1 }
            }
        }
        return [values.picking(source, shape: shape)]
    }
}
