/// Dense convs over few input channels (an image's first layer: RGB in, C ≤ 4) as a direct
/// convolution: y[n, m, oy, ox] = clamp(b[m] + Σ_{c,ky,kx} w[m, c, ky, kx] · x[n, c, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw]).
///
/// Each input plane is padded and split into stride phases (`StridePhases`), so a tap is a
/// contiguous run of the row. Four output channels and sixteen output columns are held in
/// eight SIMD8 accumulators across all C·kh·kw taps: per tap two loads of the input, four
/// broadcast weights and eight fused multiply-adds (the loads, not the multiply-adds, bound
/// this loop). Pitfall: im2col + SGEMM does the same
/// multiply-adds, but with K = C·kh·kw as small as 27 the product spends its time writing C
/// rather than multiplying (SqueezeNet's first layer ran at 75 GFLOP/s that way).
enum FewChannelConv {
    static let maximumChannels = 4

    static func applies(group: Int, inChannels: Int, geometry: WindowGeometry) -> Bool {
        group == 1 && inChannels <= maximumChannels && !geometry.isPointwise && geometry.kernel[0] * geometry.kernel[1] <= 121
    }

    /// Output channels per block.
    static let block = 4

    /// The weights as ⌈M/4⌉ blocks of [C·kh·kw taps][4 output channels] (zero past M).
    static func blockedWeights(_ weights: [Float], outChannels m: Int, taps: Int) -> [Float] {
        let blocks = (m + block - 1) / block
        var blocked = [Float](repeating: 0, count: blocks * taps * block)
        for filter in 0..<m {
            for tap in 0..<taps { blocked[((filter / block) * taps + tap) * block + filter % block] = weights[filter * taps + tap] }
        }
        return blocked
    }

    /// `blocked` is `blockedWeights(w)`.
    static func convolve(_ x: UnsafePointer<Float>, blocked: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         bias: [Float]?, clamp: Conv.Clamp, batch: Int, inChannels c: Int, outChannels m: Int,
                         geometry g: WindowGeometry) {
        let (h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw) = g.planar
        let paddedHeight = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
        // Room for the last group of sixteen columns read past `ow`.
        let paddedWidth = max(wd + pw, ((ow + 15) / 16 * 16 - 1) * sw + (kw - 1) * dw + 1) + sw
        let phaseLength = (paddedWidth + sw - 1) / sw
        let rowStride = sw * phaseLength, planeSize = paddedHeight * rowStride
        var taps = [Int]()
        for channel in 0..<c {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let o = kx * dw
                    taps.append(channel * planeSize + ky * dh * rowStride + (o % sw) * phaseLength + o / sw)
                }
            }
        }
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: batch * c * planeSize)
        defer { padded.deallocate() }
        Parallel.forEach(batch * c) { plane in
            let target = padded + plane * planeSize
            target.initialize(repeating: 0, count: planeSize)
            for row in 0..<h {
                StridePhases.copyRow(x + (plane * h + row) * wd, width: wd, pad: pw, stride: sw, phaseLength: phaseLength,
                                     into: target + (row + ph) * rowStride)
            }
        }
        let block = Self.block, blocks = (m + block - 1) / block
        let (low, high) = (SIMD8<Float>(repeating: clamp.low), SIMD8<Float>(repeating: clamp.high))
        // Jobs: (image, block of output channels, band of output rows).
        let rowsPerJob = max(1, min(oh, 8192 / max(ow, 1)))
        let bands = (oh + rowsPerJob - 1) / rowsPerJob
        taps.withUnsafeBufferPointer { taps in
            Parallel.forEach(batch * blocks * bands) { job in
                let band = job % bands, blockIndex = (job / bands) % blocks, image = job / (bands * blocks)
                let weights = blocked + blockIndex * taps.count * block
                let first = blockIndex * block, filters = min(block, m - first)
                let b = (0..<block).map { SIMD8<Float>(repeating: first + $0 < m ? bias?[first + $0] ?? 0 : 0) }
                for oy in (band * rowsPerJob)..<min(oh, (band + 1) * rowsPerJob) {
                    let row = UnsafePointer(padded + image * c * planeSize + oy * sh * rowStride)
                    var ox = 0
                    while ox < ow {
                        // a<j><half>: output channel first + j, columns ox + 8·half ..< ox + 8·half + 8.
                        var (a00, a10, a20, a30) = (b[0], b[1], b[2], b[3])
                        var (a01, a11, a21, a31) = (b[0], b[1], b[2], b[3])
                        for t in 0..<taps.count {
                            let source = row + taps[t] + ox, w = weights + t * block
                            let (v0, v1) = (source.simd8(), source.simd8(8))
                            let (w0, w1) = (SIMD8<Float>(repeating: w[0]), SIMD8<Float>(repeating: w[1]))
                            let (w2, w3) = (SIMD8<Float>(repeating: w[2]), SIMD8<Float>(repeating: w[3]))
                            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0)
                            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1)
                            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2)
                            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3)
                        }
                        @inline(__always) func put(_ j: Int, _ low8: SIMD8<Float>, _ high8: SIMD8<Float>) {
                            guard j < filters else { return }
                            let out = y + ((image * m + first + j) * oh + oy) * ow + ox
                            let (l, h) = (low8.clampedLanes(low, high), high8.clampedLanes(low, high))
                            if ox + 16 <= ow {
                                out.store(l)
                                out.store(h, at: 8)
                            } else {
                                for lane in 0..<min(8, ow - ox) { out[lane] = l[lane] }
                                for lane in 0..<max(0, min(8, ow - ox - 8)) { out[8 + lane] = h[lane] }
                            }
                        }
                        put(0, a00, a01); put(1, a10, a11); put(2, a20, a21); put(3, a30, a31)
                        ox += 16
                    }
                }
            }
        }
    }
}
