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
