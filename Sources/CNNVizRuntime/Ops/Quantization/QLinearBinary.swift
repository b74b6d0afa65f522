import Foundation

/// com.microsoft QLinearAdd and QLinearMul: C = quantize(A' ∘ B') of the dequantized inputs,
/// inputs (A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point), every
/// scale and zero point one value, A and B broadcast numpy-style.
///
/// Computed as onnxruntime's AVX2 kernels do, raw values and Float32 throughout:
///   Add: r_A = s_A / s_C, r_B = s_B / s_C, F = z_C − fma(r_A, z_A, r_B · z_B),
///        c = round(fma(a, r_A, fma(b, r_B, F)));
///   Mul: r = (s_A · s_B) / s_C, c = round(Float((a − z_A)(b − z_B)) · r + z_C), no fma;
/// rounding half to even, saturated to C's type. Pitfall: onnxruntime swaps A and B when A is
/// the one held constant along the innermost axis (its broadcast loop's "scalar" operand), and
/// the fma order then changes: the swap is kept here, so that results agree bit for bit.
struct QLinearBinary: Operator {
    enum Kind { case add, mul }
    let kind: Kind

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let op = kind == .add ? "QLinearAdd" : "QLinearMul"
        var a = try inputs.required(0, "A"), b = try inputs.required(3, "B")
        var pa = try QuantizedParameters(inputs, scale: 1, zero: 2, op: op, defaultType: a.elementType)
        var pb = try QuantizedParameters(inputs, scale: 4, zero: 5, op: op, defaultType: b.elementType)
        let pc = try QuantizedParameters(inputs, scale: 6, zero: 7, op: op, defaultType: a.elementType)
        let shape = try Shape.broadcast(a.shape, b.shape)
        if let axis = shape.lastIndex(where: { $0 > 1 }), QLinearBinary.isConstant(a.shape, along: axis, of: shape),
           !QLinearBinary.isConstant(b.shape, along: axis, of: shape) {
            swap(&a, &b)
            swap(&pa, &pb)
        }
        let x = a.broadcastAny(to: shape).integers, y = b.broadcastAny(to: shape).integers
        let range = pc.type.integerRange, zero = pc.zero
        let result: [Int64]
        switch kind {
        case .add:
            let (ra, rb) = (pa.scale / pc.scale, pb.scale / pc.scale)
            let f = Float(zero) - (rb * Float(pb.zero)).addingProduct(ra, Float(pa.zero))
            result = x.indices.map { i in
                let v = f.addingProduct(Float(y[i]), rb).addingProduct(Float(x[i]), ra)
                return QuantizedArithmetic.round(v, zero: 0, range: range)
            }
        case .mul:
            let r = (pa.scale * pb.scale) / pc.scale
            result = x.indices.map { i in
                let product = Float((x[i] - pa.zero) * (y[i] - pb.zero)) * r
                return QuantizedArithmetic.round(product + Float(zero), zero: 0, range: range)
            }
        }
        return [Tensor(shape: shape, integers: result, elementType: pc.type)]
    }

    /// Whether a tensor of `shape`, broadcast to `target`, holds one value along `axis`.
    static func isConstant(_ shape: [Int], along axis: Int, of target: [Int]) -> Bool {
        let offset = target.count - shape.count
        return axis < offset || shape[axis - offset] == 1
    }
}
