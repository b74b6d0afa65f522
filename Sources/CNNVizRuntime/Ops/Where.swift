/// Where: out = condition ? X : Y, the three broadcast together (NumPy rules).
///
/// ∂L/∂X = g where the condition holds, ∂L/∂Y = g elsewhere, each summed back to its operand's
/// shape; the condition gets none.
struct Where: Operator, Differentiable {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let condition = try inputs.required(0, "condition"), x = try inputs.required(1, "X"), y = try inputs.required(2, "Y")
        let shape = try Shape.broadcast(try Shape.broadcast(condition.shape, x.shape), y.shape)
        let mask = condition.broadcastAny(to: shape).integers
        let countX = x.count
        let fromX = Shape.broadcastSourceIndices(x.shape, to: shape), fromY = Shape.broadcastSourceIndices(y.shape, to: shape)
        // Index into X ++ Y: X's elements first, then Y's.
        let source = mask.indices.map { mask[$0] != 0 ? fromX[$0] : countX + fromY[$0] }
        let joined: Tensor
        switch (x.storage, y.storage) {
        case (.integer(let a), .integer(let b)): joined = Tensor(shape: [a.count + b.count], integers: a + b, elementType: x.elementType)
        default: joined = Tensor(shape: [x.count + y.count], floats: x.floats + y.floats, elementType: x.elementType)
        }
        return [joined.picking(source, shape: shape)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient
        let mask = try context.input(0, "condition").broadcastAny(to: g.shape).integers
        let xShape = try context.inputShape(1, "X"), yShape = try context.inputShape(2, "Y")
        let values = g.floats
        let toX = Tensor(shape: g.shape, floats: values.indices.map { mask[$0] != 0 ? values[$0] : 0 })
        let toY = Tensor(shape: g.shape, floats: values.indices.map { mask[$0] != 0 ? 0 : values[$0] })
        return [nil, context.needs(1) ? toX.sumReduced(to: xShape) : nil, context.needs(2) ? toY.sumReduced(to: yShape) : nil]
    }
}
