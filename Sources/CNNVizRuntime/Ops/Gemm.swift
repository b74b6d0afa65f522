/// Gemm: Y = α·op(A)·op(B) + β·C, with op = transpose when transA/transB is set and C
/// broadcast (unidirectionally) to [M, N].
struct Gemm: Operator {
    let alpha: Float, beta: Float
    let transposeA: Bool, transposeB: Bool

    init(node: Node) throws {
        alpha = try node.float("alpha", default: 1)
        beta = try node.float("beta", default: 1)
        transposeA = try node.int("transA", default: 0) != 0
        transposeB = try node.int("transB", default: 0) != 0
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.requiredFloat(0, "A"), b = try inputs.requiredFloat(1, "B")
        guard a.rank == 2, b.rank == 2 else {
            throw CNNVizError(.shapeMismatch, "Gemm needs 2-D A and B, found A \(a.shape) and B \(b.shape)")
        }
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else {
            throw CNNVizError(.shapeMismatch,
                              "Gemm inner dimensions differ: op(A) is [\(m), \(k)] and op(B) is [\(kb), \(n)] (A \(a.shape), B \(b.shape), transA \(transposeA), transB \(transposeB))")
        }
        var initial: [Float]? = nil
        if let c = inputs.optional(2), beta != 0 {
            guard (try? Shape.broadcast(c.shape, [m, n])) == [m, n] else {
                throw CNNVizError(.shapeMismatch, "Gemm C \(c.shape) does not broadcast to [\(m), \(n)]")
            }
            let zeros = [Float](repeating: 0, count: m * n)
            initial = Broadcasting.combine(zeros, [m, n], c.floats, c.shape, into: [m, n], +)
        }
        return [a.withFloats { ap in
            b.withFloats { bp in
                Tensor.filled(shape: [m, n], elementType: a.elementType) { yp in
                    if let initial { _ = yp.initialize(from: initial) }
                    GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, lda: a.shape[1], transposeA: transposeA,
                                  b: bp.baseAddress!, ldb: b.shape[1], transposeB: transposeB,
                                  c: yp.baseAddress!, ldc: n, alpha: alpha, beta: initial == nil ? 0 : beta)
                }
            }
        }]
    }
}

/// MatMul with NumPy semantics: 1-D operands are promoted (and the added axis removed
/// afterwards), leading batch dimensions broadcast.
struct MatMul: Operator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.requiredFloat(0, "A"), b = try inputs.requiredFloat(1, "B")
        guard a.rank >= 1, b.rank >= 1 else {
            throw CNNVizError(.shapeMismatch, "MatMul operands must have rank ≥ 1, found \(a.shape) and \(b.shape)")
        }
        let aShape = a.rank == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.rank == 1 ? [b.shape[0], 1] : b.shape
        let (m, k) = (aShape[aShape.count - 2], aShape[aShape.count - 1])
        let (kb, n) = (bShape[bShape.count - 2], bShape[bShape.count - 1])
        guard k == kb else {
            throw CNNVizError(.shapeMismatch, "MatMul inner dimensions differ: A \(a.shape) and B \(b.shape)")
        }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let batch = try Shape.broadcast(aBatch, bBatch)
        let batchCount = batch.reduce(1, *)
        let aStrides = Shape.broadcastStrides(aBatch, to: batch), bStrides = Shape.broadcastStrides(bBatch, to: batch)
        var outShape = batch + [m, n]
        let result = a.withFloats { ap in
            b.withFloats { bp in
                Tensor.filled(shape: outShape, elementType: a.elementType) { yp in
                    for index in 0..<batchCount {
                        var rest = index, aOffset = 0, bOffset = 0
                        for axis in stride(from: batch.count - 1, through: 0, by: -1) {
                            let i = rest % batch[axis]
                            rest /= batch[axis]
                            aOffset += i * aStrides[axis]
                            bOffset += i * bStrides[axis]
                        }
                        GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress! + aOffset * m * k, lda: k,
                                      b: bp.baseAddress! + bOffset * k * n, ldb: n,
                                      c: yp.baseAddress! + index * m * n, ldc: n)
                    }
                }
            }
        }
        if a.rank == 1 { outShape.remove(at: outShape.count - 2) }
        if b.rank == 1 { outShape.removeLast() }
        return [result.reshaped(outShape)]
    }
}

extension Gemm: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// With G = ∂L/∂Y: ∂L/∂op(A) = α·G·op(B)ᵀ, ∂L/∂op(B) = α·op(A)ᵀ·G (transposed back where
    /// transA/transB is set), ∂L/∂C = β·G summed over C's broadcast axes.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let a = try context.input(0, "A"), b = try context.input(1, "B"), g = try context.outputGradient
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = g.shape[1]
        var result = [Tensor?](repeating: nil, count: context.inputs.count)
        if context.needs(0) {
            result[0] = product(a.shape) { out in
                if transposeA {  // Aᵀ-grad [k, m] = α·op(B)·Gᵀ
                    multiply(m: k, n: m, k: n, b, transposeA: transposeB, g, transposeB: true, into: out)
                } else {  // [m, k] = α·G·op(B)ᵀ
                    multiply(m: m, n: k, k: n, g, transposeA: false, b, transposeB: !transposeB, into: out)
                }
            }
        }
        if context.needs(1) {
            result[1] = product(b.shape) { out in
                if transposeB {  // [n, k] = α·Gᵀ·op(A)
                    multiply(m: n, n: k, k: m, g, transposeA: true, a, transposeB: transposeA, into: out)
                } else {  // [k, n] = α·op(A)ᵀ·G
                    multiply(m: k, n: n, k: m, a, transposeA: !transposeA, g, transposeB: false, into: out)
                }
            }
        }
        if context.needs(2), let c = context.inputs.optional(2) {
            result[2] = g.sumReduced(to: c.shape).scaled(by: beta)
        }
        return result
    }

    func product(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        Tensor.filled(shape: shape) { body($0.baseAddress!) }
    }

    /// out[m×n] = α·op(x)·op(y), with x and y as stored (row strides = their column counts).
    func multiply(m: Int, n: Int, k: Int, _ x: Tensor, transposeA: Bool, _ y: Tensor, transposeB: Bool,
                  into out: UnsafeMutablePointer<Float>) {
        x.withFloats { xp in
            y.withFloats { yp in
                GEMM.multiply(m: m, n: n, k: k, a: xp.baseAddress!, lda: x.shape[1], transposeA: transposeA,
                              b: yp.baseAddress!, ldb: y.shape[1], transposeB: transposeB, c: out, ldc: n, alpha: alpha)
            }
        }
    }
}

extension MatMul: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// Per batch entry: ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G, then summed over the batch axes along
    /// which that operand was broadcast; 1-D operands get their promoted axis removed again.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let a = try context.input(0, "A"), b = try context.input(1, "B"), g = try context.outputGradient
        let aShape = a.rank == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.rank == 1 ? [b.shape[0], 1] : b.shape
        let (m, k, n) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
        let batch = try Shape.broadcast(Array(aShape.dropLast(2)), Array(bShape.dropLast(2)))
        let batchCount = batch.reduce(1, *)
        let fullA = a.reshaped(aShape).broadcast(to: batch + [m, k])
        let fullB = b.reshaped(bShape).broadcast(to: batch + [k, n])
        let grad = g.reshaped(batch + [m, n])
        func batched(_ shape: [Int], _ step: (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
            fullA.withFloats { ap in
                fullB.withFloats { bp in
                    grad.withFloats { gp in
                        Tensor.filled(shape: batch + shape) { out in
                            for index in 0..<batchCount { step(index, ap.baseAddress!, bp.baseAddress!, gp.baseAddress!, out.baseAddress!) }
                        }
                    }
                }
            }
        }
        var result = [Tensor?](repeating: nil, count: 2)
        if context.needs(0) {
            result[0] = batched([m, k]) { i, ap, bp, gp, out in
                GEMM.multiply(m: m, n: k, k: n, a: gp + i * m * n, lda: n, b: bp + i * k * n, ldb: n, transposeB: true,
                              c: out + i * m * k, ldc: k)
            }.sumReduced(to: aShape).reshaped(a.shape)
        }
        if context.needs(1) {
            result[1] = batched([k, n]) { i, ap, bp, gp, out in
                GEMM.multiply(m: k, n: n, k: m, a: ap + i * m * k, lda: k, transposeA: true, b: gp + i * m * n, ldb: n,
                              c: out + i * k * n, ldc: n)
            }.sumReduced(to: bShape).reshaped(b.shape)
        }
        return result
    }
}
