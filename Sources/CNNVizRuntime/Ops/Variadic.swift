/// Sum, Max, Min and Mean over any number of inputs, with NumPy broadcasting.
///
/// Mean = Sum / n, computed after the sum (as the ONNX reference does).
struct Variadic<F: BinaryFunction>: Operator {
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
}

extension BinaryFunctions {
    static let variadicBuilders: [String: OperatorBuilder] = [
        "Sum": { _, _ in Variadic(function: Add(), name: "Sum", averages: false) },
        "Mean": { _, _ in Variadic(function: Add(), name: "Mean", averages: true) },
        "Max": { _, _ in Variadic(function: Maximum(), name: "Max", averages: false) },
        "Min": { _, _ in Variadic(function: Minimum(), name: "Min", averages: false) },
    ]
}
