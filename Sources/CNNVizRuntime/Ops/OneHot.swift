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
