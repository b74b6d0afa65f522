/// Sum, Max, Min and Mean over any number of inputs, with NumPy broadcasting.
///
/// Mean = Sum / n, computed after the sum (as the ONNX reference does).
struct Variadic<F: BinaryFunction>: Operator, Differentiable {
    let function: F
    let name: String
    let averages: Bool

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let present = inputs.compactMap { $0 }
        guard var result = present.first else {
            throw CNNVizError(.invalidModel, "\(name) needs at least one input")
        }
        for next in present.dropFirst() {
            result = try ElementwiseBinary.apply(function, result, next, name: name)
        }
        if averages && present.count > 1 {
            let divisor = Tensor(shape: [], floats: [Float(present.count)])
            result = try ElementwiseBinary.apply(BinaryFunctions.Div(), result, divisor, name: name)
        }
        return [result]
    }

    /// Sum: ∂L/∂xᵢ = Σ_broadcast g; Mean: the same over n. Max/Min: g goes to the inputs equal
    /// to the result, split evenly on a tie (PyTorch's convention for maximum/minimum).
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient
        let present = context.inputs.compactMap { $0 }
        if function.arithmetic == .add {
            let scale = averages ? 1 / Float(present.count) : 1
            return context.inputs.enumerated().map { slot, x in
                guard let x, context.needs(slot) else { return nil }
                return g.sumReduced(to: x.shape).scaled(by: scale)
            }
        }
        let y = try context.output(0)
        let full = present.map { $0.broadcast(to: y.shape).floats }
        let ties = y.withFloats { py in
            (0..<py.count).map { i in Float(full.reduce(0) { $0 + ($1[i] == py[i] ? 1 : 0) }) }
        }
        var fullIndex = 0
        return context.inputs.enumerated().map { slot, x in
            guard let x else { return nil }
            defer { fullIndex += 1 }
            guard context.needs(slot) else { return nil }
            let values = full[fullIndex]
            let share = y.withFloats { py in
                g.withFloats { pg in (0..<pg.count).map { i in values[i] == py[i] ? pg[i] / ties[i] : 0 } }
            }
            return Tensor(shape: y.shape, floats: share, elementType: g.elementType).sumReduced(to: x.shape)
        }
    }
}

extension BinaryFunctions {
    static let variadicBuilders: [String: OperatorBuilder] = [
        "Sum": { _, _ in Variadic(function: Add(), name: "Sum", averages: false) },
        "Mean": { _, _ in Variadic(function: Add(), name: "Mean", averages: true) },
        "Max": { _, _ in Variadic(function: Maximum(), name: "Max", averages: false) },
        "Min": { _, _ in Variadic(function: Minimum(), name: "Min", averages: false) },
    ]
}
