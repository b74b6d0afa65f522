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
                        for t in 0..<run { destination[j + t] = 0 }
                    } else {
                        let source = plane + iy * w
                        let ixStart = ox * sw - pw + kx * dw
                        if sw == 1 && ixStart >= 0 && ixStart + run <= w {
                            (destination + j).update(from: source + ixStart, count: run)
                        } else {
                            // In-image outputs t ∈ [first, last): zeros around a branch-free strided copy.
                            let first = min(run, max(0, (-ixStart + sw - 1) / sw))
                            let last = max(first, min(run, w - ixStart > 0 ? (w - ixStart + sw - 1) / sw : 0))
                            let out = destination + j
                            for t in 0..<first { out[t] = 0 }
                            var from = source + (ixStart &+ first &* sw)
                            for t in first..<last {
                                out[t] = from.pointee
                                from += sw
                            }
                            for t in last..<run { out[t] = 0 }
                        }
                    }
                    j += run
                    ox = 0
                    oy += 1
                }
            }
        }
    }
}
