import Foundation

/// com.microsoft QLinearConcat: inputs (Y_scale, Y_zero_point, then X, X_scale, X_zero_point
/// for each tensor), concatenated along `axis`. An input quantized like the output is copied;
/// any other is requantized element by element, q = quantize(s_X · (x − z_X), s_Y, z_Y), as
/// onnxruntime's 256-entry table does. Pitfall: "like the output" is exact equality of the
/// Float32 scales and the zero points, nothing looser.
struct QLinearConcat: Operator {
    let concat: Concat

    init(node: Node) throws { concat = try Concat(node: node) }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        guard inputs.count >= 5, (inputs.count - 2) % 3 == 0 else {
            throw CNNVizError(.invalidModel, "QLinearConcat takes Y_scale, Y_zero_point and a (X, X_scale, X_zero_point) triple per input, found \(inputs.count) inputs")
        }
        let first = try inputs.required(2, "X")
        let output = try QuantizedParameters(inputs, scale: 0, zero: 1, op: "QLinearConcat", defaultType: first.elementType)
        let range = output.type.integerRange
        let parts = try stride(from: 2, to: inputs.count, by: 3).map { index -> Tensor? in
            let x = try inputs.required(index, "X")
            let p = try QuantizedParameters(inputs, scale: index + 1, zero: index + 2, op: "QLinearConcat", defaultType: x.elementType)
            guard p.scale != output.scale || p.zero != output.zero || p.type != output.type else { return x }
            let values = x.integers.map {
                QuantizedArithmetic.quantize(QuantizedArithmetic.dequantize($0, scale: p.scale, zero: p.zero), scale: output.scale,
                                             zero: output.zero, range: range)
            }
            return Tensor(shape: x.shape, integers: values, elementType: output.type)
        }
        return try concat.forward(parts)
    }
}
