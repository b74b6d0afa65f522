/// The kernels of Conv's backward pass, on planar (2-D) NCHW problems.
enum ConvGradients {
    /// W′[g·Cg + c, m, ky, kx] = W[g·Mg + m, c, kh − 1 − ky, kw − 1 − kx]: the weights of the
    /// conv that maps ∂L/∂y back to ∂L/∂x when the stride is 1.
    static func flippedTransposedWeights(_ w: Tensor, group: Int) -> Tensor {
        let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let mg = m / group
        let source = w.floats
        var out = [Float](repeating: 0, count: source.count)
        for gi in 0..<group {
            for mm in 0..<mg {
                for c in 0..<cg {
                    let from = ((gi * mg + mm) * cg + c) * kh * kw
                    let to = ((gi * cg + c) * mg + mm) * kh * kw
                    for k in 0..<(kh * kw) { out[to + kh * kw - 1 - k] = source[from + k] }
                }
            }
        }
        return Tensor(shape: [cg * group, mg, kh, kw], floats: out, elementType: w.elementType)
    }

    /// g[n, c, i, j] placed at [(sh·i), (sw·j)] of a zero plane of ((oh − 1)·sh + 1) × ((ow − 1)·sw + 1).
    static func zeroInterleaved(_ g: Tensor, strides: [Int]) -> Tensor {
        let (planes, oh, ow) = (g.shape[0] * g.shape[1], g.shape[2], g.shape[3])
        let (sh, sw) = (strides[0], strides[1])
        let (h, w) = ((oh - 1) * sh + 1, (ow - 1) * sw + 1)
        var result = [Float](repeating: 0, count: planes * h * w)
        g.withFloats { gp in
            result.withUnsafeMutableBufferPointer { out in
                Parallel.forChunks(planes, minimumPerWorker: max(1, 16384 / max(h * w, 1))) { range in
                    for plane in range {
                        for i in 0..<oh {
                            let row = out.baseAddress! + plane * h * w + i * sh * w, from = gp.baseAddress! + (plane * oh + i) * ow
                            for j in 0..<ow { row[j * sw] = from[j] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [g.shape[0], g.shape[1], h, w], floats: result, elementType: g.elementType)
    }

    /// ∂L/∂x of a 1×1 stride-1 conv: W_gᵀ·g_g per image and group, one SGEMM each (whole
    /// products shared out across the workers for a batch).
    static func pointwiseInput(outputGradient g: Tensor, weights w: Tensor, inputShape: [Int], group: Int) -> Tensor {
        let (n, c, m) = (inputShape[0], inputShape[1], w.shape[0])
        let (cg, mg) = (c / group, m / group)
        let plane = inputShape[2...].reduce(1, *)
        return g.withFloats { gp in
            w.withFloats { wp in
                Tensor.filled(shape: inputShape, elementType: g.elementType) { xp in
                    // A batch: one whole product per worker at a time; one image: each product split.
                    let perPlane = n * group >= 2 * Parallel.workers
                    let product = { (job: Int) in
                        let (image, gi) = (job / group, job % group)
                        let (a, b, out) = (wp.baseAddress! + gi * mg * cg, gp.baseAddress! + (image * m + gi * mg) * plane,
                                           xp.baseAddress! + (image * c + gi * cg) * plane)
                        if perPlane {
                            GEMM.single(m: cg, n: plane, k: mg, a: a, lda: cg, transposeA: true, b: b, ldb: plane, transposeB: false,
                                        c: out, ldc: plane, alpha: 1, beta: 0)
                        } else {
                            GEMM.multiply(m: cg, n: plane, k: mg, a: a, lda: cg, transposeA: true, b: b, ldb: plane, c: out, ldc: plane)
                        }
                    }
                    if perPlane { Parallel.forEach(n * group, product) } else { (0..<(n * group)).forEach(product) }
                }
            }
        }
    }

    /// ∂L/∂x by col2im: per image and group, dcol = W_gᵀ·g_g (one SGEMM), then every column
    /// entry is added back to the input pixel it was unfolded from. Depthwise convs scatter
    /// directly. Pitfall: overlapping windows (kernel > stride) add into the same pixel, so
    /// each worker scatters into planes of its own: one channel each for a single image, whole
    /// (image, group) planes for a batch.
    static func inputByCol2Im(outputGradient g: Tensor, weights w: Tensor, inputShape: [Int], group: Int,
                              geometry: WindowGeometry) -> Tensor {
        let (h, wd, oh, ow, kh, kw, _, _, _, _, _, _) = geometry.planar
        let (n, c, m) = (inputShape[0], inputShape[1], w.shape[0])
        let (cg, mg) = (c / group, m / group)
        let (plane, columns, k) = (h * wd, oh * ow, cg * kh * kw)
        // Each job zeroes its own planes just before scattering into them, while they are in
        // its core's cache (zeroing the whole batch first would evict them).
        let result = g.withFloats { gp in
            w.withFloats { wp in
                Tensor.filled(shape: inputShape, elementType: g.elementType) { xp in
                    let x = xp.baseAddress!
                    if cg == 1 && mg == 1 {
                        Parallel.forEach(n * c) { job in
                            let channel = job % c
                            let source = gp.baseAddress! + job * columns, target = x + job * plane
                            target.initialize(repeating: 0, count: plane)
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let weight = wp[(channel * kh + ky) * kw + kx]
                                    scatter(source, scale: weight, into: target, ky: ky, kx: kx, geometry: geometry)
                                }
                            }
                        }
                        return
                    }
                    let (wAll, gAll) = (wp.baseAddress!, gp.baseAddress!)
                    if n * group >= 2 * Parallel.workers {
                        // A batch: each worker takes whole (image, group) planes, a band of
                        // output rows at a time, so that the band's columns are still in cache
                        // when they are scattered.
                        let bandRows = max(1, min(oh, (1 << 18) / max(k * ow, 1)))
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.workers * k * bandRows * ow)
                        defer { scratch.deallocate() }
                        Parallel.forEach(n * group) { job, worker in
                            let (image, gi) = (job / group, job % group)
                            let band = scratch + worker * k * bandRows * ow
                            let target = x + (image * c + gi * cg) * plane
                            target.initialize(repeating: 0, count: cg * plane)
                            for firstRow in stride(from: 0, to: oh, by: bandRows) {
                                let rows = firstRow..<min(oh, firstRow + bandRows), width = rows.count * ow
                                GEMM.single(m: k, n: width, k: mg, a: wAll + gi * mg * k, lda: k, transposeA: true,
                                            b: gAll + (image * m + gi * mg) * columns + firstRow * ow, ldb: columns, transposeB: false,
                                            c: band, ldc: width, alpha: 1, beta: 0)
                                for channel in 0..<cg {
                                    for ky in 0..<kh {
                                        for kx in 0..<kw {
                                            scatter(band + ((channel * kh + ky) * kw + kx) * width, scale: 1, into: target + channel * plane,
                                                    ky: ky, kx: kx, geometry: geometry, outputRows: rows)
                                        }
                                    }
                                }
                            }
                        }
                        return
                    }
                    let columnsBuffer = UnsafeMutablePointer<Float>.allocate(capacity: k * columns)
                    defer { columnsBuffer.deallocate() }
                    x.initialize(repeating: 0, count: n * c * plane)
                    for image in 0..<n {
                        for gi in 0..<group {
                            GEMM.multiply(m: k, n: columns, k: mg, a: wAll + gi * mg * k, lda: k, transposeA: true,
                                          b: gAll + (image * m + gi * mg) * columns, ldb: columns,
                                          c: columnsBuffer, ldc: columns)
                            let target = x + (image * c + gi * cg) * plane
                            Parallel.forEach(cg) { channel in
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        scatter(columnsBuffer + ((channel * kh + ky) * kw + kx) * columns, scale: 1,
                                                into: target + channel * plane, ky: ky, kx: kx, geometry: geometry)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// x[oy·sh − ph + ky·dh][ox·sw − pw + kx·dw] += scale · source[(oy − first row)·ow + ox] for
    /// the in-image taps of the output rows `outputRows` (default: all).
    @inline(__always)
    static func scatter(_ source: UnsafePointer<Float>, scale: Float, into x: UnsafeMutablePointer<Float>, ky: Int, kx: Int,
                        geometry: WindowGeometry, outputRows: Range<Int>? = nil) {
        let (h, w, oh, ow, _, _, sh, sw, dh, dw, ph, pw) = geometry.planar
        let xOffset = kx * dw - pw
        // Output columns whose tap lands inside the row: first ≤ ox < last.
        let first = max(0, (-xOffset + sw - 1) / sw)
        let last = min(ow, w - xOffset > 0 ? (w - xOffset + sw - 1) / sw : 0)
        guard first < last else { return }
        let rows = outputRows ?? 0..<oh
        for oy in rows {
            let iy = oy * sh - ph + ky * dh
            if iy < 0 || iy >= h { continue }
            let row = x + iy * w + xOffset, from = source + (oy - rows.lowerBound) * ow
            if sw == 1 {
                for ox in first..<last { row[ox] += scale * from[ox] }
            } else {
                for ox in first..<last { row[ox * sw] += scale * from[ox] }
            }
        }
    }

    /// ∂L/∂W_g = Σₙ g_g · im2col(x_g)ᵀ, over column tiles that stay in cache; depthwise convs
    /// use a direct dot product per tap.
    static func weights(input x: Tensor, outputGradient g: Tensor, weightShape: [Int], group: Int,
                        geometry: WindowGeometry) -> Tensor {
        let (h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw) = geometry.planar
        let (n, c, m) = (x.shape[0], x.shape[1], weightShape[0])
        let (cg, mg) = (c / group, m / group)
        let (plane, columns, k) = (h * wd, oh * ow, cg * kh * kw)
        var result = [Float](repeating: 0, count: m * k)
        x.withFloats { xp in
            g.withFloats { gp in
                result.withUnsafeMutableBufferPointer { wp in
                    if cg == 1 && mg == 1 {
                        Parallel.forEach(c) { channel in
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    var sum: Float = 0
                                    for image in 0..<n {
                                        let source = xp.baseAddress! + (image * c + channel) * plane
                                        let gradient = gp.baseAddress! + (image * c + channel) * columns
                                        for oy in 0..<oh {
                                            let iy = oy * sh - ph + ky * dh
                                            if iy < 0 || iy >= h { continue }
                                            for ox in 0..<ow {
                                                let ix = ox * sw - pw + kx * dw
                                                if ix >= 0 && ix < wd { sum += gradient[oy * ow + ox] * source[iy * wd + ix] }
                                            }
                                        }
                                    }
                                    wp[(channel * kh + ky) * kw + kx] = sum
                                }
                            }
                        }
                        return
                    }
                    let tile = min(columns, max(256, (1 << 20) / max(k, 1)))
                    let unfolded = UnsafeMutablePointer<Float>.allocate(capacity: k * tile)
                    defer { unfolded.deallocate() }
                    for image in 0..<n {
                        for gi in 0..<group {
                            let source = xp.baseAddress! + (image * c + gi * cg) * plane
                            var start = 0
                            while start < columns {
                                let width = min(tile, columns - start)
                                Im2Col.unfold(source, channels: cg, geometry: geometry, columnRange: start..<start + width, into: unfolded)
                                GEMM.multiply(m: mg, n: k, k: width,
                                              a: gp.baseAddress! + (image * m + gi * mg) * columns + start, lda: columns,
                                              b: unfolded, ldb: width, transposeB: true,
                                              c: wp.baseAddress! + gi * mg * k, ldc: k, beta: 1)
                                start += width
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: weightShape, floats: result, elementType: x.elementType)
    }
}
