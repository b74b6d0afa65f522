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
    /// Floats of transformed input (16·C·tiles) per chunk of tile rows.
    static let tileBudget = 1 << 20

    /// Dense 3×3 stride-1 convs with at least 64 input channels and 128 tiles: below that the
    /// 16 products are too thin for SGEMM to beat one im2col product (measured on SqueezeNet's
    /// 16- and 32-channel fire modules).
    static func applies(to geometry: WindowGeometry, group: Int, inChannels: Int) -> Bool {
        group == 1 && inChannels >= 64 && geometry.kernel == [3, 3] && geometry.strides == [1, 1] && geometry.dilations == [1, 1]
            && (geometry.output[0] + 1) / 2 * ((geometry.output[1] + 1) / 2) >= 128
    }

    /// U[ξ][m][c] = (G g_mc Gᵀ)[ξ] for every filter.
    static func transformedWeights(_ w: UnsafePointer<Float>, outChannels m: Int, inChannels c: Int) -> UnsafeMutablePointer<Float> {
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 * m * c)
        let plane = m * c
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
        return u
    }

    /// y = clamp(conv(x, w) + b), NCHW, over chunks of whole tile rows.
    ///
    /// Per chunk, three parallel phases: the input transform split by channel, the 16 products
    /// split by ξ, the output transform split by output channel. Both transforms run over whole
    /// rows of tiles at once: input rows are split into even and odd columns, so that every
    /// transform step is a contiguous, vectorisable loop.
    static func convolve(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         bias: [Float]?, clamp: Conv.Clamp, batch: Int, inChannels c: Int, outChannels m: Int,
                         geometry g: WindowGeometry) {
        let (h, wd, oh, ow, _, _, _, _, _, _, ph, pw) = g.planar
        let tilesHigh = (oh + 1) / 2, tilesWide = (ow + 1) / 2
        let rowsPerChunk = max(1, min(tilesHigh, max(64, tileBudget / (16 * max(c, m))) / tilesWide))
        let chunksPerImage = (tilesHigh + rowsPerChunk - 1) / rowsPerChunk
        let jobs = batch * chunksPerImage
        let u = transformedWeights(w, outChannels: m, inChannels: c)
        let (low, high) = (clamp.low, clamp.high)
        let span = tilesWide + 1
        let capacity = rowsPerChunk * tilesWide
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * c * capacity)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: 16 * m * capacity)
        // Per worker: even/odd columns of 4 input rows, then their row transforms: 16 rows of `span`.
        let allLanes = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.workers * 16 * span)
        defer { u.deallocate(); v.deallocate(); products.deallocate(); allLanes.deallocate() }
        for job in 0..<jobs {
            let image = job / chunksPerImage
            let firstRow = (job % chunksPerImage) * rowsPerChunk
            let rows = min(rowsPerChunk, tilesHigh - firstRow)
            let count = rows * tilesWide
            let input = x + image * c * h * wd
            let vStride = c * count
            Parallel.forEach(c) { channel, worker in
                let lanes = allLanes + worker * 16 * span
                let plane = input + channel * h * wd
                for localRow in 0..<rows {
                    let top = (firstRow + localRow) * 2 - ph
                    // lanes[r] = even columns of input row r, lanes[4 + r] = odd columns (zero outside).
                    for r in 0..<4 {
                        let even = lanes + r * span, odd = lanes + (4 + r) * span
                        let iy = top + r
                        guard iy >= 0 && iy < h else {
                            even.update(repeating: 0, count: span)
                            odd.update(repeating: 0, count: span)
                            continue
                        }
                        let source = plane + iy * wd
                        for k in 0..<span {
                            let e = 2 &* k &- pw, o = e &+ 1
                            even[k] = e >= 0 && e < wd ? source[e] : 0
                            odd[k] = o >= 0 && o < wd ? source[o] : 0
                        }
                    }
                    // Row transform Bᵀ d on the even and the odd halves: lanes[8 + …].
                    for half in 0..<2 {
                        let d0 = lanes + (half * 4) * span, d1 = d0 + span, d2 = d1 + span, d3 = d2 + span
                        let t0 = lanes + (8 + half * 4) * span, t1 = t0 + span, t2 = t1 + span, t3 = t2 + span
                        for k in 0..<span {
                            t0[k] = d0[k] - d2[k]
                            t1[k] = d1[k] + d2[k]
                            t2[k] = d2[k] - d1[k]
                            t3[k] = d1[k] - d3[k]
                        }
                    }
                    // Column transform · B: V[4i + j][tile].
                    let base = v + channel * count + localRow * tilesWide
                    for i in 0..<4 {
                        let e = lanes + (8 + i) * span, o = lanes + (12 + i) * span
                        let v0 = base + (4 * i) * vStride, v1 = v0 + vStride, v2 = v1 + vStride, v3 = v2 + vStride
                        for t in 0..<tilesWide {
                            v0[t] = e[t] - e[t &+ 1]
                            v1[t] = o[t] + e[t &+ 1]
                            v2[t] = e[t &+ 1] - o[t]
                            v3[t] = o[t] - o[t &+ 1]
                        }
                    }
                }
            }
            Parallel.forEach(16) { xi in
                GEMM.single(m: m, n: count, k: c, a: u + xi * m * c, lda: c, transposeA: false,
                            b: v + xi * vStride, ldb: count, transposeB: false,
                            c: products + xi * m * count, ldc: count, alpha: 1, beta: 0)
            }
            // Y = Aᵀ P A, a tile row at a time, interleaved back into the output rows.
            let output = y + image * m * oh * ow
            let pStride = m * count
            Parallel.forEach(m) { channel, worker in
                let lanes = allLanes + worker * 16 * span
                let y00 = lanes, y01 = lanes + span, y10 = lanes + 2 * span, y11 = lanes + 3 * span
                let b = bias?[channel] ?? 0
                let plane = output + channel * oh * ow
                for localRow in 0..<rows {
                    let base = products + channel * count + localRow * tilesWide
                    @inline(__always) func p(_ index: Int) -> UnsafeMutablePointer<Float> { base + index * pStride }
                    let (p0, p1, p2, p3) = (p(0), p(1), p(2), p(3))
                    let (p4, p5, p6, p7) = (p(4), p(5), p(6), p(7))
                    let (p8, p9, p10, p11) = (p(8), p(9), p(10), p(11))
                    let (p12, p13, p14, p15) = (p(12), p(13), p(14), p(15))
                    for t in 0..<tilesWide {
                        let a0 = p0[t] + p4[t] + p8[t], a1 = p1[t] + p5[t] + p9[t]
                        let a2 = p2[t] + p6[t] + p10[t], a3 = p3[t] + p7[t] + p11[t]
                        let b0 = p4[t] - p8[t] - p12[t], b1 = p5[t] - p9[t] - p13[t]
                        let b2 = p6[t] - p10[t] - p14[t], b3 = p7[t] - p11[t] - p15[t]
                        y00[t] = Swift.min(Swift.max(a0 + a1 + a2 + b, low), high)
                        y01[t] = Swift.min(Swift.max(a1 - a2 - a3 + b, low), high)
                        y10[t] = Swift.min(Swift.max(b0 + b1 + b2 + b, low), high)
                        y11[t] = Swift.min(Swift.max(b1 - b2 - b3 + b, low), high)
                    }
                    let oy = (firstRow + localRow) * 2
                    let topRow = plane + oy * ow
                    for ox in 0..<ow { topRow[ox] = (ox & 1 == 0 ? y00 : y01)[ox >> 1] }
                    if oy + 1 < oh {
                        let bottomRow = topRow + ow
                        for ox in 0..<ow { bottomRow[ox] = (ox & 1 == 0 ? y10 : y11)[ox >> 1] }
                    }
                }
            }
        }
    }
}
