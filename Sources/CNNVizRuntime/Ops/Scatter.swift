/// ScatterElements and ScatterND: a copy of data with `updates` written at the positions that
/// `indices` name, combined by `reduction`: none (default, overwrite), add, mul, max or min.
///
/// ScatterElements: updates[i] goes to data[i with the index on `axis` replaced by
/// indices[i]]. ScatterND: each row of indices' last axis names a slice of data that takes the
/// matching slice of updates.
///
/// Backward (none and add): ∂L/∂updates = g gathered at the targets; ∂L/∂data = g, zeroed at
/// overwritten positions for none. Pitfall: with duplicate indices and reduction none the
/// last update wins, and only it gets a gradient (ONNX leaves the order undefined).
struct Scatter: Operator, Differentiable {
    enum Form { case elements(axis: Int), nd }
    let form: Form
    let reduction: String

    init(node: Node, form: Form) throws {
        self.form = form
        reduction = try node.string("reduction", default: "none")
        guard ["none", "add", "mul", "max", "min"].contains(reduction) else {
            throw CNNVizError(.invalidAttribute, "reduction '\(reduction)' is not one of none, add, mul, max, min")
        }
    }

    /// The flat index in data of every update element.
    func targets(_ dataShape: [Int], _ indices: Tensor, updatesShape: [Int]) throws -> [Int] {
        switch form {
        case .nd:
            let (starts, tail, shape) = try NDIndexing.slices(dataShape, indices, batchDims: 0, op: "ScatterND")
            guard shape == updatesShape else {
                throw CNNVizError(.shapeMismatch, "ScatterND's updates must have shape \(shape), found \(updatesShape)")
            }
            return starts.flatMap { start in (0..<tail).map { start + $0 } }
        case .elements(let axis):
            guard indices.shape == updatesShape, indices.rank == dataShape.count else {
                throw CNNVizError(.shapeMismatch, "ScatterElements' indices \(indices.shape) and updates \(updatesShape) must have one shape, of the data's rank \(dataShape.count)")
            }
            return try AxisIndexing.offsets(dataShape, indices, axis: axis, op: "ScatterElements")
        }
    }

    func combine<T: Numeric & Comparable>(_ old: T, _ new: T) -> T {
        switch reduction {
        case "add": return old + new
        case "mul": return old * new
        case "max": return Swift.max(old, new)
        case "min": return Swift.min(old, new)
        default: return new
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let data = try inputs.required(0, "data"), indices = try inputs.required(1, "indices"), updates = try inputs.required(2, "updates")
        let targets = try targets(data.shape, indices, updatesShape: updates.shape)
        switch data.storage {
        case .float(var values):
            let new = updates.floats
            for (i, t) in targets.enumerated() { values[t] = combine(values[t], new[i]) }
            return [Tensor(shape: data.shape, floats: values, elementType: data.elementType)]
        case .integer(var values):
            let new = updates.integers
            for (i, t) in targets.enumerated() { values[t] = data.elementType.wrapped(combine(values[t], new[i])) }
            return [Tensor(shape: data.shape, integers: values, elementType: data.elementType)]
        }
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        guard reduction == "none" || reduction == "add" else {
            throw CNNVizError(.unsupportedOperator, "the gradient of a scatter with reduction '\(reduction)' is not implemented")
        }
        let g = try context.outputGradient
        let data = try context.inputShape(0, "data"), indices = try context.input(1, "indices")
        let updates = try context.inputShape(2, "updates")
        let targets = try targets(data, indices, updatesShape: updates)
        var toData = g.floats
        var source = targets
        if reduction == "none" {
            // The last write to a position wins: earlier updates to it get nothing.
            var last = [Int: Int]()
            for (i, t) in targets.enumerated() { last[t] = i }
            source = targets.enumerated().map { last[$0.element] == $0.offset ? $0.element : -1 }
            for t in targets { toData[t] = 0 }
        }
        return [Tensor(shape: data, floats: toData, elementType: g.elementType), nil, g.picking(source, shape: updates)]
    }
}
