/// LpNormalization: x / ‖x‖_p along `axis` (default −1), p = 1 or 2 (default 2); 0 where the
/// norm is 0 (as onnxruntime), so an all-zero row gives zeros, not NaN.
///
/// Backward with n = ‖x‖_p and s = Σ g·x over the axis: p = 2: g/n − x·s/n³;
/// p = 1: g/n − sign(x)·s/n².
struct LpNormalization: Operator, Differentiable {
    let axis: Int
    let p: Int

    init(node: Node) throws {
        axis = try node.int("axis", default: -1)
        p = try node.int("p", default: 2)
        guard p == 1 || p == 2 else { throw CNNVizError(.invalidAttribute, "LpNormalization's p must be 1 or 2, found \(p)") }
    }

    func norms(_ x: Tensor) throws -> (norm: [Double], group: [Int]) {
        let (_, group) = Shape.reductionGroups(x.shape, reducing: [try Shape.normalizedAxis(axis, rank: x.rank)])
        var norm = [Double](repeating: 0, count: (group.max() ?? -1) + 1)
        for (v, g) in zip(x.floats, group) { norm[g] += p == 1 ? Swift.abs(Double(v)) : Double(v) * Double(v) }
        return (p == 2 ? norm.map { $0.squareRoot() } : norm, group)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "input")
        let (norm, group) = try norms(x)
        let values = x.floats
        return [Tensor(shape: x.shape, floats: values.indices.map { norm[group[$0]] == 0 ? 0 : Float(Double(values[$0]) / norm[group[$0]]) },
                       elementType: x.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "input"), g = try context.outputGradient.floats
        let (norm, group) = try norms(x)
        let values = x.floats.map(Double.init)
        var s = [Double](repeating: 0, count: norm.count)
        for i in values.indices { s[group[i]] += Double(g[i]) * values[i] }
        let dx = values.indices.map { i -> Float in
            let n = norm[group[i]], sign: Double = values[i] > 0 ? 1 : values[i] < 0 ? -1 : 0
            if n == 0 { return 0 }
            return Float(p == 2 ? Double(g[i]) / n - values[i] * s[group[i]] / (n * n * n) : Double(g[i]) / n - sign * s[group[i]] / (n * n))
        }
        return [Tensor(shape: x.shape, floats: dx, elementType: x.elementType)]
    }
}
