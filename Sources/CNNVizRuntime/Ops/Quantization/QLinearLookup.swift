import Foundation

/// com.microsoft QLinearSigmoid and QLinearLeakyRelu: Y = quantize(f(dequantize(X))), inputs
/// (X, X_scale, X_zero_point, Y_scale, Y_zero_point), read from a 256-entry table built as
/// onnxruntime builds it (`QuantizedArithmetic.table`): f in Float32 on each dequantized byte.
/// LeakyRelu: f(d) = d ≥ 0 ? d : α·d (α the `alpha` attribute, default 0.01).
/// Sigmoid: f(d) = 1 / (1 + e^(−d)). Pitfall: onnxruntime evaluates the sigmoid with a
/// rational polynomial (MLAS) that can differ from this in the last bit, so at most one table
/// entry in many thousands lands one step away.
struct QLinearLookup: Operator {
    let name: String
    let function: @Sendable (Float) -> Float

    static func sigmoid() -> QLinearLookup {
        QLinearLookup(name: "QLinearSigmoid") { 1 / (1 + Foundation.exp(-$0)) }
    }

    static func leakyRelu(_ node: Node) throws -> QLinearLookup {
        let alpha = try node.float("alpha", default: 0.01)
        return QLinearLookup(name: "QLinearLeakyRelu") { $0 >= 0 ? $0 : alpha * $0 }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let input = try QuantizedParameters(inputs, scale: 1, zero: 2, op: name, defaultType: x.elementType)
        let output = try QuantizedParameters(inputs, scale: 3, zero: 4, op: name, defaultType: x.elementType)
        let table = QuantizedArithmetic.table(input: input, output: output, function)
        return [Tensor(shape: x.shape, integers: x.integers.map { table[input.tableIndex($0)] }, elementType: output.type)]
    }
}
