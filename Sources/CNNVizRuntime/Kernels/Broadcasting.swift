/// Elementwise combination of two arrays under NumPy broadcasting.
enum Broadcasting {
    /// out[i] = f(a[ia], b[ib]) over `shape`, where `a` and `b` broadcast to `shape`.
    ///
    /// Fast paths: equal shapes, a scalar operand, and a trailing run of contiguous elements
    /// on both sides (e.g. a per-channel [C,1,1] bias against [N,C,H,W]).
    @inline(__always)
    static func combine<T>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], into shape: [Int],
                           _ f: (T, T) -> T) -> [T] {
        let count = shape.reduce(1, *)
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    if pa.count == count && pb.count == count {
                        Parallel.forChunks(count, minimumPerWorker: 65536) { range in
                            for i in range { (out.baseAddress! + i).initialize(to: f(pa[i], pb[i])) }
                        }
                    } else if pb.count == 1 && pa.count == count {
                        let scalar = pb[0]
                        Parallel.forChunks(count, minimumPerWorker: 65536) { range in
                            for i in range { (out.baseAddress! + i).initialize(to: f(pa[i], scalar)) }
                        }
                    } else if pa.count == 1 && pb.count == count {
                        let scalar = pa[0]
                        Parallel.forChunks(count, minimumPerWorker: 65536) { range in
                            for i in range { (out.baseAddress! + i).initialize(to: f(scalar, pb[i])) }
                        }
                    } else {
                        general(pa, aShape, pb, bShape, shape, out.baseAddress!, f)
                    }
                }
            }
            initialized = count
        }
    }

    /// Walks the output row by row (innermost axis), with per-operand strides of 0 on broadcast axes.
    @inline(__always)
    static func general<T>(_ a: UnsafeBufferPointer<T>, _ aShape: [Int], _ b: UnsafeBufferPointer<T>, _ bShape: [Int],
                           _ shape: [Int], _ out: UnsafeMutablePointer<T>, _ f: (T, T) -> T) {
        let rank = shape.count
        let count = shape.reduce(1, *)
        guard rank > 0 else {
            if count == 1 { out.initialize(to: f(a[0], b[0])) }
            return
        }
        let aStrides = Shape.broadcastStrides(aShape, to: shape)
        let bStrides = Shape.broadcastStrides(bShape, to: shape)
        let inner = shape[rank - 1]
        guard inner > 0 else { return }
        let rows = count / inner
        let sa = aStrides[rank - 1], sb = bStrides[rank - 1]
        Parallel.forChunks(rows, minimumPerWorker: max(1, 65536 / max(inner, 1))) { range in
            var index = RowIndex(shape: shape, row: range.lowerBound)
            for row in range {
                var ao = 0, bo = 0
                for axis in 0..<(rank - 1) {
                    ao += index[axis] * aStrides[axis]
                    bo += index[axis] * bStrides[axis]
                }
                let o = out + row * inner
                if sa == 1 && sb == 0 {
                    let bv = b[bo]
                    for i in 0..<inner { (o + i).initialize(to: f(a[ao + i], bv)) }
                } else if sa == 0 && sb == 1 {
                    let av = a[ao]
                    for i in 0..<inner { (o + i).initialize(to: f(av, b[bo + i])) }
                } else {
                    for i in 0..<inner { (o + i).initialize(to: f(a[ao + i * sa], b[bo + i * sb])) }
                }
                index.advance()
            }
        }
    }
}
