/// Unfolds image patches into columns so that a convolution becomes one matrix product.
enum Im2Col {
    /// Writes, for output columns `columnRange` (flattened oy·ow + ox), the matrix
    /// col[(c·kh + ky)·kw + kx][j] = x[c][oy·sh − ph + ky·dh][ox·sw − pw + kx·dw], or 0 in the padding.
    ///
    /// `x` points at `channels` planes of h×w; `col` has `channels·kh·kw` rows of `columnRange.count`.
    static func unfold(_ x: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                       columnRange: Range<Int>, into col: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let (h, w, _, ow, kh, kw, sh, sw, dh, dw, ph, pw) = g.planar
        let width = columnRange.count
        let rows = channels * kh * kw
        let minimumPerWorker = parallel ? max(1, 32768 / max(width, 1)) : Int.max
        Parallel.forChunks(rows, minimumPerWorker: minimumPerWorker) { rowRange in
            for row in rowRange {
                let kx = row % kw, ky = (row / kw) % kh, c = row / (kw * kh)
                let plane = x + c * h * w
                let destination = col + row * width
                var j = 0
                var oy = columnRange.lowerBound / ow, ox = columnRange.lowerBound % ow
                while j < width {
                    let run = min(ow - ox, width - j)
                    let iy = oy * sh - ph + ky * dh
                    if iy < 0 || iy >= h {
                        (destination + j).update(repeating: 0, count: run)
                    } else {
                        let source = plane + iy * w
                        let ixStart = ox * sw - pw + kx * dw
                        // In-image outputs t ∈ [first, last): zeros around a copy (contiguous for
                        // stride 1, deinterleaved 8 at a time for stride 2, else strided).
                        let first = min(run, max(0, (-ixStart + sw - 1) / sw))
                        let last = max(first, min(run, w - ixStart > 0 ? (w - ixStart + sw - 1) / sw : 0))
                        let out = destination + j
                        if first > 0 { out.update(repeating: 0, count: first) }
                        var from = source + (ixStart &+ first &* sw)
                        var t = first
                        if sw == 1 {
                            (out + first).update(from: from, count: last - first)
                            t = last
                        } else if sw == 2 {
                            // 16 floats from[0..<16] hold 8 outputs; the last load must stay in the row.
                            while t + 8 <= last && ixStart + (t + 8) * 2 <= w {
                                out.store(from.simd16().evenHalf, at: t)
                                from += 16
                                t += 8
                            }
                        }
                        while t < last {
                            out[t] = from.pointee
                            from += sw
                            t += 1
                        }
                        if last < run { (out + last).update(repeating: 0, count: run - last) }
                    }
                    j += run
                    ox = 0
                    oy += 1
                }
            }
        }
    }
}
