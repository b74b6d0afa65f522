/// The tensor arithmetic that backward rules share: accumulation, broadcasting and its adjoint.
extension Tensor {
    /// self + other, elementwise, for equal shapes (gradient accumulation at a fan-out).
    func adding(_ other: Tensor) throws -> Tensor {
        guard shape == other.shape else {
            throw CNNVizError(.shapeMismatch, "cannot accumulate a gradient of shape \(other.shape) into one of shape \(shape)")
        }
        return Tensor(shape: shape, floats: sameShape(floats, other.floats, BinaryFunctions.Add()), elementType: elementType)
    }

    /// The values repeated along broadcast axes to `target` (NumPy broadcasting).
    func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let zero = [Float](repeating: 0, count: target.reduce(1, *))
        return Tensor(shape: target, floats: Broadcasting.combine(zero, target, floats, shape, into: target) { $1 }, elementType: elementType)
    }

    /// The adjoint of broadcasting `target` to this tensor's shape: sums over the axes that
    /// broadcasting added or stretched from 1, giving a tensor of shape `target`.
    ///
    /// Pitfall: the sums are taken in Double, since one output may gather millions of terms
    /// (a bias gradient over a whole batch of feature maps).
    func sumReduced(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let targetCount = target.reduce(1, *)
        let values = floats
        if targetCount == 1 {
            var sum = 0.0
            for v in values { sum += Double(v) }
            return Tensor(shape: target, floats: [Float(sum)], elementType: elementType)
        }
        var sums = [Double](repeating: 0, count: targetCount)
        let strides = Shape.broadcastStrides(target, to: shape)
        guard let inner = shape.last, inner > 0 else { return Tensor.zeros(target) }
        let innerStride = strides[shape.count - 1]
        var index = RowIndex(shape: shape, row: 0)
        values.withUnsafeBufferPointer { source in
            for row in 0..<(values.count / inner) {
                var offset = 0
                for axis in 0..<(shape.count - 1) { offset += index[axis] * strides[axis] }
                let from = row * inner
                if innerStride == 0 {
                    var sum = 0.0
                    for i in 0..<inner { sum += Double(source[from + i]) }
                    sums[offset] += sum
                } else {
                    for i in 0..<inner { sums[offset + i] += Double(source[from + i]) }
                }
                index.advance()
            }
        }
        return Tensor(shape: target, floats: sums.map { Float($0) }, elementType: elementType)
    }

    /// out[i] = f(self[i], other[i]) for equal shapes; used for g·f′(x) products.
    func zipped(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "zipped \(shape) with \(other.shape)")
        return withFloats { a in
            other.withFloats { b in
                Tensor.filled(shape: shape, elementType: elementType) { out in
                    Parallel.forChunks(a.count, minimumPerWorker: 32768) { range in
                        for i in range { out[i] = f(a[i], b[i]) }
                    }
                }
            }
        }
    }

    /// out[i] = f(self[i], x[i], y[i]) for equal shapes; used for g·f′(x, y) products.
    func zipped(_ x: Tensor, _ y: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
        precondition(shape == x.shape && shape == y.shape, "zipped \(shape) with \(x.shape) and \(y.shape)")
        return withFloats { g in
            x.withFloats { a in
                y.withFloats { b in
                    Tensor.filled(shape: shape, elementType: elementType) { out in
                        Parallel.forChunks(g.count, minimumPerWorker: 32768) { range in
                            for i in range { out[i] = f(g[i], a[i], b[i]) }
                        }
                    }
                }
            }
        }
    }

    /// The values times a constant; self, uncopied, when the factor is 1 (an Add's ∂L/∂b).
    func scaled(by factor: Float) -> Tensor {
        if factor == 1 { return self }
        return withFloats { x in
            Tensor.filled(shape: shape, elementType: elementType) { out in
                Parallel.forChunks(x.count, minimumPerWorker: 65536) { range in
                    for i in range { out[i] = x[i] * factor }
                }
            }
        }
    }
}
