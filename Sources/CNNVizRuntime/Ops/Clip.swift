/// Clip: y = min(max(x, low), high).
///
/// Before opset 11 the bounds are attributes `min`/`max`; from 11 on they are optional
/// inputs 1 and 2. Missing bounds are ±∞ (or the integer type's limits).
struct Clip: Operator, Differentiable {
    let attributeLow: Float?
    let attributeHigh: Float?

    init(node: Node, opset: Int) throws {
        if opset < 11 {
            attributeLow = try node.float("min", default: -.infinity)
            attributeHigh = try node.float("max", default: .infinity)
        } else {
            attributeLow = nil
            attributeHigh = nil
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        switch x.storage {
        case .float(let values):
            let low = attributeLow ?? inputs.optional(1)?.floats.first ?? -.infinity
            let high = attributeHigh ?? inputs.optional(2)?.floats.first ?? .infinity
            return [Tensor(shape: x.shape, floats: values.map { Swift.min(Swift.max($0, low), high) }, elementType: x.elementType)]
        case .integer(let values):
            let low = inputs.optional(1)?.integers.first ?? .min
            let high = inputs.optional(2)?.integers.first ?? .max
            return [Tensor(shape: x.shape, integers: values.map { Swift.min(Swift.max($0, low), high) }, elementType: x.elementType)]
        }
    }

    /// ∂L/∂x = g where low < x < high, else 0, read from y: y lies strictly inside the bounds
    /// exactly when x does. Pitfall: at x = low or x = high the gradient is 0 (PyTorch's
    /// hardtanh, i.e. ReLU6; torch.clamp would pass it).
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient, y = try context.output(0)
        let low = attributeLow ?? context.inputs.optional(1)?.floats.first ?? -.infinity
        let high = attributeHigh ?? context.inputs.optional(2)?.floats.first ?? .infinity
        return [Activations.clampBackward(g, y, low: low, high: high)]
    }

    var backwardReads: BackwardReads { .outputsNotData }
}
