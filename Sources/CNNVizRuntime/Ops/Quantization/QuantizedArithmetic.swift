import Foundation

/// The rounding and saturation of onnxruntime's CPU kernels (MLAS), which quantized models are
/// judged against.
///
/// Quantize (MlasQuantizeLinear): f = x / scale, a Float32 division (not a product with the
/// reciprocal, which rounds differently), clamped to [q_min − zp, q_max − zp] before rounding
/// half to even, then + zp. A NaN becomes q_min (SSE's max returns its second operand).
/// Requantize (MlasRequantizeOutput): the same with f = Float(acc) · multiplier, the
/// multiplier a Float32 product / quotient of scales. Dequantize: Float(x − zp) · scale.
/// Pitfall: computing any of these in Double moves results by one step at exact halves.
enum QuantizedArithmetic {
    /// Clamps a scaled value to the zero-point-shifted range, rounds half to even, adds zp.
    @inline(__always)
    static func round(_ scaled: Float, zero: Int64, range: ClosedRange<Int64>) -> Int64 {
        let low = Float(range.lowerBound - zero), high = Float(range.upperBound - zero)
        let clamped = scaled.isNaN ? low : Swift.min(Swift.max(scaled, low), high)
        return Int64(clamped.rounded(.toNearestOrEven)) + zero
    }

    @inline(__always)
    static func quantize(_ x: Float, scale: Float, zero: Int64, range: ClosedRange<Int64>) -> Int64 {
        round(x / scale, zero: zero, range: range)
    }

    @inline(__always)
    static func dequantize(_ q: Int64, scale: Float, zero: Int64) -> Float { Float(q - zero) * scale }

    /// The 256 outputs of a function of one 8-bit input, by the input's raw byte (what
    /// onnxruntime's QLinearSigmoid and QLinearLeakyRelu look up): each byte dequantized,
    /// passed through `function` in Float32 and quantized again.
    static func table(input: QuantizedParameters, output: QuantizedParameters, _ function: (Float) -> Float) -> [Int64] {
        (input.type.integerRange).map { q in
            quantize(function(dequantize(q, scale: input.scale, zero: input.zero)), scale: output.scale, zero: output.zero,
                     range: output.type.integerRange)
        }
    }
}

/// A per-tensor scale and zero point, read from an op's inputs, and the integer type they go with.
struct QuantizedParameters {
    var scale: Float
    var zero: Int64
    var type: ElementType

    /// Inputs `scaleIndex` and `zeroIndex` (optional: 0 of `defaultType`) of `inputs`; both must
    /// be scalars (one value), as onnxruntime's com.microsoft kernels require.
    init(_ inputs: [Tensor?], scale scaleIndex: Int, zero zeroIndex: Int, op: String, defaultType: ElementType = .uint8) throws {
        let scale = try inputs.requiredFloat(scaleIndex, "scale")
        let zero = inputs.optional(zeroIndex)
        guard scale.count == 1, (zero?.count ?? 1) == 1 else {
            throw CNNVizError(.shapeMismatch, "\(op) takes one scale and one zero point per tensor, found shapes \(scale.shape) and \(zero?.shape ?? [])")
        }
        let type = zero?.elementType ?? defaultType
        guard type == .uint8 || type == .int8 else {
            throw CNNVizError(.unsupportedDataType, "\(op) quantizes to uint8 or int8, found a zero point of \(type)")
        }
        self.scale = scale.floats[0]
        self.zero = zero?.integers[0] ?? 0
        self.type = type
    }

    /// The position of raw value q in a 256-entry table indexed from the type's minimum.
    @inline(__always)
    func tableIndex(_ q: Int64) -> Int { Int(q - type.integerRange.lowerBound) }
}
