/// LayerNormalization: Y = x̂·Scale + B with x̂ standardised over the axes [axis, rank)
/// (default axis −1, ε = 1e-5); Scale and B broadcast onto those axes. Optional outputs 1 and
/// 2 are the mean and 1/√(σ² + ε) per group, shaped as X with the normalised axes set to 1.
///
/// Backward: ∂L/∂x̂ = g·Scale into `GroupStatistics.inputGradient`; ∂L/∂Scale = Σ g·x̂ and
/// ∂L/∂B = Σ g over the leading axes.
struct LayerNormalization: Operator, Differentiable {
    let axis: Int
    let epsilon: Float

    init(node: Node) throws {
        axis = try node.int("axis", default: -1)
        epsilon = try node.float("epsilon", default: 1e-5)
    }

    func statistics(_ x: Tensor) throws -> (GroupStatistics, axis: Int) {
        let axis = try Shape.normalizedAxis(axis, rank: x.rank)
        let span = x.shape[axis...].reduce(1, *)
        let groups = x.count / Swift.max(span, 1)
        let group = (0..<x.count).map { $0 / Swift.max(span, 1) }
        return (GroupStatistics(x.floats, group: group, count: groups, epsilon: Double(epsilon)), axis)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X"), scale = try inputs.requiredFloat(1, "Scale")
        let (stats, axis) = try statistics(x)
        let gamma = try scale.broadcastChecked(to: x.shape, "Scale").floats
        let beta = try inputs.optional(2)?.broadcastChecked(to: x.shape, "B").floats
        let standardized = stats.standardized(x.floats)
        let y = standardized.indices.map { Float(standardized[$0] * Double(gamma[$0]) + Double(beta?[$0] ?? 0)) }
        let statShape = x.shape.enumerated().map { $0.offset < axis ? $0.element : 1 }
        return [Tensor(shape: x.shape, floats: y, elementType: x.elementType),
                Tensor(shape: statShape, floats: stats.mean.map { Float($0) }),
                Tensor(shape: statShape, floats: stats.inverseDenominator.map { Float($0) })]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), scale = try context.input(1, "Scale"), g = try context.outputGradient
        let (stats, _) = try statistics(x)
        let gamma = scale.broadcast(to: x.shape).floats, gradient = g.floats
        let d = gradient.indices.map { Double(gradient[$0]) * Double(gamma[$0]) }
        let dx = stats.inputGradient(d, values: x.floats)
        let standardized = stats.standardized(x.floats)
        let dScale = Tensor(shape: x.shape, floats: gradient.indices.map { Float(Double(gradient[$0]) * standardized[$0]) })
        return [context.needs(0) ? Tensor(shape: x.shape, floats: dx.map { Float($0) }, elementType: x.elementType) : nil,
                context.needs(1) ? dScale.sumReduced(to: scale.shape) : nil,
                context.needs(2) ? g.sumReduced(to: try context.inputShape(2, "B")) : nil]
    }
}

extension Tensor {
    /// Broadcasts onto `target` (a per-channel parameter onto an activation), or throws naming
    /// the parameter when the shapes are not compatible.
    func broadcastChecked(to target: [Int], _ what: String) throws -> Tensor {
        guard (try? Shape.broadcast(shape, target)) == target else {
            throw CNNVizError(.shapeMismatch, "\(what) of shape \(shape) does not broadcast to the input's shape \(target)")
                .with(expectedShape: target, foundShape: shape)
        }
        return broadcast(to: target)
    }
}
