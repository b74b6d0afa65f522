import Foundation

/// com.microsoft QGemm: inputs (A, a_scale, a_zero_point, B, b_scale, b_zero_point, C,
/// y_scale, y_zero_point), attributes alpha, transA, transB.
///
/// acc[m, n] = C[m, n] + Σ_k (A[m, k] − z_A)(B[k, n] − z_B[n]), C an int32 bias broadcast
/// onto [M, N]; multiplier[n] = (α · s_A) · s_B[n], divided by s_Y when y_scale is given. With
/// y_scale the output is requantized to y_zero_point's type (`QuantizedArithmetic.round`),
/// without it the output is Float32 acc · multiplier[n]. Pitfall: the products run through
/// the Float32 matrix product on exact integers, which stays exact while every partial sum is
/// below 2²⁴ (onnxruntime's AVX2 u8×s8 kernel instead saturates pairs of products at 16 bits,
/// so on such CPUs large activations can differ; VNNI and ARM kernels are exact, like this).
struct QGemm: Operator {
    let alpha: Float
    let transA: Bool
    let transB: Bool

    init(node: Node) throws {
        alpha = try node.float("alpha", default: 1)
        transA = try node.int("transA", default: 0) != 0
        transB = try node.int("transB", default: 0) != 0
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(3, "B")
        guard a.rank == 2, b.rank == 2 else {
            throw CNNVizError(.shapeMismatch, "QGemm takes 2-D A and B, found \(a.shape) and \(b.shape)")
        }
        let aScale = try inputs.requiredFloat(1, "a_scale"), bScale = try inputs.requiredFloat(4, "b_scale")
        let aCentred = Quantization.centred(a, inputs.optional(2), axis: 0)
        let bCentred = Quantization.centred(b, inputs.optional(5), axis: transB ? 0 : 1)
        let left = transA ? try Transpose(permutation: [1, 0]).forward([aCentred])[0] : aCentred
        let right = transB ? try Transpose(permutation: [1, 0]).forward([bCentred])[0] : bCentred
        var product = try MatMul().forward([left, right])[0]
        let (rows, columns) = (product.shape[0], product.shape[1])
        if let bias = inputs.optional(6) {
            let c = Tensor(shape: bias.shape, floats: bias.floats).broadcastAny(to: product.shape).floats
            product = Tensor(shape: product.shape, floats: zip(product.floats, c).map { $0 + $1 })
        }
        let scales = bScale.floats
        guard scales.count == 1 || scales.count == columns else {
            throw CNNVizError(.shapeMismatch, "QGemm's b_scale has \(scales.count) values for \(columns) columns")
        }
        let yScale = inputs.optional(7)
        let multipliers = (0..<columns).map { n -> Float in
            let scale = (alpha * aScale.floats[0]) * scales[scales.count == 1 ? 0 : n]
            return yScale.map { scale / $0.floats[0] } ?? scale
        }
        let values = product.floats
        guard yScale != nil else {
            return [Tensor(shape: [rows, columns], floats: values.indices.map { values[$0] * multipliers[$0 % columns] })]
        }
        let zero = inputs.optional(8)
        let type = zero?.elementType ?? .uint8
        let (z, range) = (zero?.integers.first ?? 0, type.integerRange)
        let result = values.indices.map { QuantizedArithmetic.round(values[$0] * multipliers[$0 % columns], zero: z, range: range) }
        return [Tensor(shape: [rows, columns], integers: result, elementType: type)]
    }
}
