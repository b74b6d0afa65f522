/// Winograd's minimal filtering F(2×2, 3×3) for dense 3×3 stride-1 convolutions.
///
/// Each 2×2 output tile is Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, where d is the 4×4 input patch and g the
/// 3×3 filter. Summed over channels, the 16 element-wise products become 16 matrix products
/// U_ξ[M×C] · V_ξ[C×T] (T tiles), which take 16·M·C·T multiply-adds instead of the 36·M·C·T
/// of a direct convolution: 2.25× fewer.
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///   Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// Pitfall: the transforms add and subtract inputs of similar size, so the result carries a
/// few more ulps of rounding than im2col (relative error ~1e-6 here, against 4×4-output
/// variants' ~1e-4, which is why the larger tiles are not used).
enum Winograd {
    /// Dense 3×3 stride-1 convs with at least 16 input channels and, over the whole batch, 128
    /// tiles. Below 128 tiles of one image (ResNet's 7×7 and 14×14 stages at batch 1), reading
    /// the transformed filters, 16/9 the size of the filters, costs more than the saved
    /// multiply-adds. (SqueezeNet's 16- to 64-channel fire modules gain 6% at batch 1 and 12%
    /// at batch 16 over im2col.)
    static func applies(to geometry: WindowGeometry, group: Int, batch: Int, inChannels: Int) -> Bool {
        group == 1 && inChannels >= 16 && geometry.kernel == [3, 3] && geometry.strides == [1, 1] && geometry.dilations == [1, 1]
            && batch * ((geometry.output[0] + 1) / 2) * ((geometry.output[1] + 1) / 2) >= 128
    }

    /// U[ξ][m][c] = (G g_mc Gᵀ)[ξ] for every filter.
    static func transformedWeights(_ weights: [Float], outChannels m: Int, inChannels c: Int) -> [Float] {
        let plane = m * c
        return [Float](unsafeUninitializedCapacity: 16 * plane) { buffer, initialized in
            weights.withUnsafeBufferPointer { source in
                let (w, u) = (source.baseAddress!, buffer.baseAddress!)
                Parallel.forChunks(plane, minimumPerWorker: 4096) { range in
                    for filter in range {
                        let g = w + filter * 9
                        // Gg, 4 rows of 3, one SIMD4 per kernel column; then (Gg)Gᵀ row by row.
                        let column0 = SIMD4<Float>(g[0], (g[0] + g[3] + g[6]) * 0.5, (g[0] - g[3] + g[6]) * 0.5, g[6])
                        let column1 = SIMD4<Float>(g[1], (g[1] + g[4] + g[7]) * 0.5, (g[1] - g[4] + g[7]) * 0.5, g[7])
                        let column2 = SIMD4<Float>(g[2], (g[2] + g[5] + g[8]) * 0.5, (g[2] - g[5] + g[8]) * 0.5, g[8])
                        let transformed = (column0, (column0 + column1 + column2) * 0.5, (column0 - column1 + column2) * 0.5, column2)
                        for row in 0..<4 {
                            u[(row * 4 + 0) * plane + filter] = transformed.0[row]
                            u[(row * 4 + 1) * plane + filter] = transformed.1[row]
                            u[(row * 4 + 2) * plane + filter] = transformed.2[row]
                            u[(row * 4 + 3) * plane + filter] = transformed.3[row]
                        }
                    }
                }
            }
            initialized = 16 * plane
        }
    }

    /// How one call's output tiles are cut into chunks of whole tile rows. Tile rows are
    /// numbered across the batch (row r is row r mod tilesHigh of image r / tilesHigh), so a
    /// chunk of a late layer's small planes spans several images.
    struct Plan {
        let channels: Int, filters: Int
        let height: Int, width: Int, outHeight: Int, outWidth: Int, padTop: Int, padLeft: Int
        let tilesHigh: Int, tilesWide: Int, totalRows: Int, rowsPerChunk: Int
        var chunks: Int { (totalRows + rowsPerChunk - 1) / rowsPerChunk }
        /// Floats per lane: the even or odd columns of one input row, one more than the tiles
        /// (each tile reads its right neighbour's first column), rounded up for 8-wide loads.
        var laneLength: Int { (tilesWide + 7) / 8 * 8 + 8 }
        /// Scratch per worker: 8 lanes.
        var lanesSize: Int { 8 * laneLength }
        var chunkCapacity: Int { rowsPerChunk * tilesWide }

        /// Tiles per chunk: 64 to 256, and as many as keep the chunk's transformed input and
        /// products (16·(C + M) floats per tile) near 2 MiB, one core's L2 and a share of L3
        /// (ResNet-18's forward at batch 32: 603 ms, against 632 ms at 1 MiB and 645 ms at
        /// 512 KiB; one noisy run each). Among the row counts near that, the one that wastes
        /// least when the chunks are dealt out to the workers.
        init(batch: Int, channels: Int, filters: Int, geometry g: WindowGeometry) {
            let (h, wd, oh, ow, _, _, _, _, _, _, ph, pw) = g.planar
            (self.channels, self.filters) = (channels, filters)
            (height, width, outHeight, outWidth, padTop, padLeft) = (h, wd, oh, ow, ph, pw)
            tilesHigh = (oh + 1) / 2
            tilesWide = (ow + 1) / 2
            totalRows = batch * tilesHigh
            let targetTiles = max(64, min(256, (1 << 19) / (16 * (channels + filters))))
            let targetRows = max(1, min(totalRows, targetTiles / tilesWide))
            var best = targetRows, bestWaste = Int.max
            for rows in stride(from: targetRows, through: max(1, targetRows / 2), by: -1) {
                let chunks = (totalRows + rows - 1) / rows
                let rounds = (chunks + Parallel.workers - 1) / Parallel.workers
                let waste = rounds * Parallel.workers * rows - totalRows
                if waste < bestWaste { (best, bestWaste) = (rows, waste) }
            }
            rowsPerChunk = best
        }

        func rows(of chunk: Int) -> Range<Int> {
            chunk * rowsPerChunk..<min(totalRows, (chunk + 1) * rowsPerChunk)
        }
    }

    /// y = clamp(conv(x, w) + b), NCHW.
    ///
    /// Each chunk of tiles goes through three steps: the input transform, the 16 products and
    /// the output transform. With at least two chunks per worker, each worker takes whole
    /// chunks, so a chunk's transformed input and products stay in that core's cache. With
    /// fewer (a late layer of one image), the chunks run one after another and each step is
    /// split across the workers: by channel, by ξ and by output channel.
    /// `u` is `transformedWeights(w)`.
    static func convolve(_ x: UnsafePointer<Float>, transformedWeights u: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         bias: [Float]?, clamp: Conv.Clamp, batch: Int, inChannels c: Int, outChannels m: Int,
                         geometry g: WindowGeometry) {
        let plan = Plan(batch: batch, channels: c, filters: m, geometry: g)
        let lanesSize = plan.lanesSize
        if plan.chunks >= 2 * Parallel.workers {
            let perWorker = 16 * (c + m) * plan.chunkCapacity + 8 + lanesSize
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.workers * perWorker)
            defer { scratch.deallocate() }
            Parallel.forEach(plan.chunks) { chunk, worker in
                let v = scratch + worker * perWorker, products = v + 16 * c * plan.chunkCapacity
                let lanes = products + 16 * m * plan.chunkCapacity + 8
                let rows = plan.rows(of: chunk)
                for channel in 0..<c { transformInput(x, channel: channel, rows: rows, plan: plan, into: v, lanes: lanes) }
                for xi in 0..<16 { multiply(u, v, xi: xi, rows: rows, plan: plan, into: products) }
                for filter in 0..<m {
                    transformOutput(products, filter: filter, rows: rows, plan: plan, bias: bias?[filter] ?? 0, clamp: clamp,
                                    into: y)
                }
            }
            return
        }
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * c * plan.chunkCapacity)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: 16 * m * plan.chunkCapacity + 8)
        let allLanes = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.workers * lanesSize)
        defer { v.deallocate(); products.deallocate(); allLanes.deallocate() }
        for chunk in 0..<plan.chunks {
            let rows = plan.rows(of: chunk)
            Parallel.forEach(c) { channel, worker in
                transformInput(x, channel: channel, rows: rows, plan: plan, into: v, lanes: allLanes + worker * lanesSize)
            }
            Parallel.forEach(16) { xi in multiply(u, v, xi: xi, rows: rows, plan: plan, into: products) }
            Parallel.forEach(m) { filter in
                transformOutput(products, filter: filter, rows: rows, plan: plan, bias: bias?[filter] ?? 0, clamp: clamp,
                                into: y)
            }
        }
    }

    /// V[4i + j][channel][tile] = (Bᵀ d B)[i][j] for every tile of `rows`, V laid out as
    /// 16 planes of C × (tiles in the chunk), eight tiles at a time.
    ///
    /// Each input row is first split into its even and odd columns (E[k] = x[2k − pw], O[k] =
    /// x[2k + 1 − pw]), so that tile t's four columns are E[t], O[t], E[t + 1], O[t + 1]: four
    /// contiguous 8-wide loads per row for eight tiles. Pitfall: the last group of a row may
    /// hold fewer than eight tiles; it is stored whole when the spill stays in this channel's
    /// later rows (which overwrite it), else lane by lane: a spill into the next channel's
    /// slots would race with the worker transforming that channel, or, after the last
    /// channel, overwrite the next ξ plane (rows of 1–3 tiles spill past several rows).
    @inline(__always)
    static func transformInput(_ x: UnsafePointer<Float>, channel: Int, rows: Range<Int>, plan: Plan,
                               into v: UnsafeMutablePointer<Float>, lanes: UnsafeMutablePointer<Float>) {
        let (h, wd, tilesWide, laneLength) = (plan.height, plan.width, plan.tilesWide, plan.laneLength)
        let count = rows.count * tilesWide, vStride = plan.channels * count
        for (localRow, row) in rows.enumerated() {
            let image = row / plan.tilesHigh
            let plane = x + (image * plan.channels + channel) * h * wd
            let top = (row % plan.tilesHigh) * 2 - plan.padTop
            // lanes[r] = even columns of input row top + r, lanes[4 + r] = its odd columns.
            for r in 0..<4 {
                let even = lanes + r * laneLength, odd = lanes + (4 + r) * laneLength
                let iy = top + r
                if iy >= 0 && iy < h {
                    splitColumns(plane + iy * wd, width: wd, pad: plan.padLeft, even: even, odd: odd, count: laneLength)
                } else {
                    even.update(repeating: 0, count: laneLength)
                    odd.update(repeating: 0, count: laneLength)
                }
            }
            let base = v + channel * count + localRow * tilesWide
            var t = 0
            while t < tilesWide {
                // d[r][j]: row r, column j of eight tiles; then Bᵀ d (rows) and · B (columns).
                @inline(__always) func column(_ r: Int, _ j: Int) -> SIMD8<Float> {
                    lanes.simd8((r + 4 * (j & 1)) * laneLength + t + (j >> 1))
                }
                let d0 = (column(0, 0), column(0, 1), column(0, 2), column(0, 3))
                let d1 = (column(1, 0), column(1, 1), column(1, 2), column(1, 3))
                let d2 = (column(2, 0), column(2, 1), column(2, 2), column(2, 3))
                let d3 = (column(3, 0), column(3, 1), column(3, 2), column(3, 3))
                @inline(__always) func rowTransform(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                    let (a, b, c, d) = (pick(d0, j), pick(d1, j), pick(d2, j), pick(d3, j))
                    return (a - c, b + c, c - b, b - d)
                }
                let (r00, r10, r20, r30) = rowTransform(0)
                let (r01, r11, r21, r31) = rowTransform(1)
                let (r02, r12, r22, r32) = rowTransform(2)
                let (r03, r13, r23, r33) = rowTransform(3)
                let first = localRow * tilesWide + t
                let remaining = first + 8 <= count ? 8 : count - first
                @inline(__always) func put(_ xi: Int, _ value: SIMD8<Float>) {
                    let target = base + xi * vStride + t
                    if remaining == 8 { target.store(value) } else { for lane in 0..<remaining { target[lane] = value[lane] } }
                }
                put(0, r00 - r02); put(1, r01 + r02); put(2, r02 - r01); put(3, r01 - r03)
                put(4, r10 - r12); put(5, r11 + r12); put(6, r12 - r11); put(7, r11 - r13)
                put(8, r20 - r22); put(9, r21 + r22); put(10, r22 - r21); put(11, r21 - r23)
                put(12, r30 - r32); put(13, r31 + r32); put(14, r32 - r31); put(15, r31 - r33)
                t += 8
            }
        }
    }

    @inline(__always)
    static func pick(_ row: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ j: Int) -> SIMD8<Float> {
        switch j {
        case 0: return row.0
        case 1: return row.1
        case 2: return row.2
        default: return row.3
        }
    }

    /// even[k] = x[2k − pad], odd[k] = x[2k + 1 − pad] for k in 0..<count, zero outside the row;
    /// 16 columns at a time away from the edges.
    @inline(__always)
    static func splitColumns(_ x: UnsafePointer<Float>, width: Int, pad: Int, even: UnsafeMutablePointer<Float>,
                             odd: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func value(_ column: Int) -> Float { column >= 0 && column < width ? x[column] : 0 }
        var k = 0
        while k < count && 2 * k - pad < 0 {
            even[k] = value(2 * k - pad)
            odd[k] = value(2 * k + 1 - pad)
            k += 1
        }
        while k + 8 <= count && 2 * k - pad + 16 <= width {
            let pair = x.simd16(2 * k - pad)
            even.store(pair.evenHalf, at: k)
            odd.store(pair.oddHalf, at: k)
            k += 8
        }
        while k < count && 2 * k - pad < width {
            even[k] = value(2 * k - pad)
            odd[k] = value(2 * k + 1 - pad)
            k += 1
        }
        if k < count {
            (even + k).update(repeating: 0, count: count - k)
            (odd + k).update(repeating: 0, count: count - k)
        }
    }

    /// P_ξ[M × tiles] = U_ξ[M × C] · V_ξ[C × tiles], one SGEMM on the calling thread.
    @inline(__always)
    static func multiply(_ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, xi: Int, rows: Range<Int>, plan: Plan,
                         into products: UnsafeMutablePointer<Float>) {
        let (c, m, count) = (plan.channels, plan.filters, rows.count * plan.tilesWide)
        GEMM.single(m: m, n: count, k: c, a: u + xi * m * c, lda: c, transposeA: false,
                    b: v + xi * c * count, ldb: count, transposeB: false,
                    c: products + xi * m * count, ldc: count, alpha: 1, beta: 0)
    }

    /// Y = clamp(Aᵀ P A + b) for one output channel, eight tiles at a time, interleaved back
    /// into the output rows (16 columns per store where the row has room, else lane by lane).
    /// Pitfall: the last group reads up to 7 floats past its row's products; the products
    /// buffer has 8 spare floats at its end.
    @inline(__always)
    static func transformOutput(_ products: UnsafePointer<Float>, filter: Int, rows: Range<Int>, plan: Plan, bias b: Float,
                                clamp: Conv.Clamp, into y: UnsafeMutablePointer<Float>) {
        let (oh, ow, tilesWide) = (plan.outHeight, plan.outWidth, plan.tilesWide)
        let (low, high) = (SIMD8<Float>(repeating: clamp.low), SIMD8<Float>(repeating: clamp.high))
        let bias = SIMD8<Float>(repeating: b)
        let count = rows.count * tilesWide, pStride = plan.filters * count
        for (localRow, row) in rows.enumerated() {
            let base = products + filter * count + localRow * tilesWide
            let image = row / plan.tilesHigh, oy = (row % plan.tilesHigh) * 2
            let topRow = y + ((image * plan.filters + filter) * oh + oy) * ow
            let hasBottom = oy + 1 < oh
            var t = 0
            while t < tilesWide {
                @inline(__always) func p(_ index: Int) -> SIMD8<Float> { base.simd8(index * pStride + t) }
                let a0 = p(0) + p(4) + p(8), a1 = p(1) + p(5) + p(9)
                let a2 = p(2) + p(6) + p(10), a3 = p(3) + p(7) + p(11)
                let b0 = p(4) - p(8) - p(12), b1 = p(5) - p(9) - p(13)
                let b2 = p(6) - p(10) - p(14), b3 = p(7) - p(11) - p(15)
                var top = SIMD16<Float>(), bottom = SIMD16<Float>()
                top.evenHalf = (a0 + a1 + a2 + bias).clampedLanes(low, high)
                top.oddHalf = (a1 - a2 - a3 + bias).clampedLanes(low, high)
                bottom.evenHalf = (b0 + b1 + b2 + bias).clampedLanes(low, high)
                bottom.oddHalf = (b1 - b2 - b3 + bias).clampedLanes(low, high)
                let column = 2 * t
                if column + 16 <= ow {
                    topRow.store(top, at: column)
                    if hasBottom { (topRow + ow).store(bottom, at: column) }
                } else {
                    for ox in column..<ow { topRow[ox] = top[ox - column] }
                    if hasBottom { for ox in column..<ow { topRow[ow + ox] = bottom[ox - column] } }
                }
                t += 8
            }
        }
    }
}
