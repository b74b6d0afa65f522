/// An op whose output copies elements of its first input (or a fill value): Tile, Trilu,
/// GatherElements, GatherND, DepthToSpace, SpaceToDepth, CenterCropPad. It gives, for every
/// output element, the flat index of the element it copies (−1 for the fill).
///
/// Forward is `picking` those indices; backward is the adjoint, each input element collecting
/// the gradients of all its copies (`scatterAdding`); index inputs get none.
protocol ElementCopying: Operator, Differentiable {
    func sources(_ dataShape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int])
}

extension ElementCopying {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let (source, shape) = try sources(x.shape, inputs)
        return [x.picking(source, shape: shape)]
    }

    /// Reads the index inputs; the data input only for its shape.
    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let shape = try context.inputShape(0, "data")
        let (source, _) = try sources(shape, context.inputs)
        return [try context.outputGradient.scatterAdding(to: source, shape: shape)] + Array(repeating: nil, count: Swift.max(context.inputs.count - 1, 0))
    }
}
