/// GroupNormalization: X [N, C, …] split into num_groups groups of C/G channels; each (n, group)
/// is standardised over its channels and positions (ε default 1e-5), then y = x̂·scale + bias.
/// Opset 21 gives scale and bias per channel [C]; opset 18 gave them per group [G] — a
/// length-G scale with G ≠ C is read that way.
///
/// Backward as LayerNormalization, with d = g·scale per channel.
struct GroupNormalization: Operator, Differentiable {
    let groups: Int
    let epsilon: Float

    init(node: Node) throws {
        guard node.attributes["num_groups"] != nil else {
            throw CNNVizError(.invalidAttribute, "GroupNormalization needs the num_groups attribute")
        }
        groups = try node.int("num_groups", default: 1)
        epsilon = try node.float("epsilon", default: 1e-5)
    }

    /// Statistics and, per element, the index into scale/bias.
    func plan(_ x: Tensor, parameterCount: Int) throws -> (GroupStatistics, parameter: [Int]) {
        guard x.rank >= 2, groups > 0, x.shape[1] % groups == 0 else {
            throw CNNVizError(.shapeMismatch, "GroupNormalization needs an input [N, C, …] with C divisible by num_groups = \(groups), found \(x.shape)")
        }
        let channels = x.shape[1], plane = x.shape[2...].reduce(1, *)
        let span = channels / groups * plane
        let perGroup = parameterCount == groups && groups != channels
        guard parameterCount == channels || perGroup else {
            throw CNNVizError(.shapeMismatch, "GroupNormalization's scale must have \(channels) values (one per channel), found \(parameterCount)")
        }
        let group = (0..<x.count).map { $0 / span }
        let parameter = (0..<x.count).map { i in perGroup ? (i / span) % groups : (i / plane) % channels }
        return (GroupStatistics(x.floats, group: group, count: x.count / Swift.max(span, 1), epsilon: Double(epsilon)), parameter)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X"), scale = try inputs.requiredFloat(1, "scale").floats
        let bias = try inputs.requiredFloat(2, "bias").floats
        let (stats, parameter) = try plan(x, parameterCount: scale.count)
        let standardized = stats.standardized(x.floats)
        let y = standardized.indices.map { Float(standardized[$0] * Double(scale[parameter[$0]]) + Double(bias[parameter[$0]])) }
        return [Tensor(shape: x.shape, floats: y, elementType: x.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), scale = try context.input(1, "scale"), g = try context.outputGradient.floats
        let (stats, parameter) = try plan(x, parameterCount: scale.count)
        let gamma = scale.floats
        let dx = stats.inputGradient(g.indices.map { Double(g[$0]) * Double(gamma[parameter[$0]]) }, values: x.floats)
        let standardized = stats.standardized(x.floats)
        var dScale = [Double](repeating: 0, count: scale.count), dBias = dScale
        for i in g.indices {
            dScale[parameter[i]] += Double(g[i]) * standardized[i]
            dBias[parameter[i]] += Double(g[i])
        }
        return [Tensor(shape: x.shape, floats: dx.map { Float($0) }, elementType: x.elementType),
                Tensor(shape: scale.shape, floats: dScale.map { Float($0) }),
                Tensor(shape: scale.shape, floats: dBias.map { Float($0) })]
    }
}
