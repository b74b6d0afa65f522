/// Depthwise convolution for small planes, eight channels at a time.
///
/// On a 14×14 or 7×7 plane, per-plane loop overhead outweighs the 9 multiply-adds per pixel.
/// Here a block of 8 channels is interleaved into one zero-padded buffer
/// block[y][x][lane] (lane = channel within the block), so that each tap is one 8-wide
/// multiply-add across the channels: out[oy][ox] = b + Σ_k w_k ⊙ block[oy·sh + ky·dh][ox·sw + kx·dw],
/// with w_k and b 8-vectors. Then the results are written back to the NCHW planes with the clamp.
/// Pitfall: the interleaving costs two passes over the data, which only pays off while the
/// planes are small; large planes use the row kernel in `Conv.depthwise`.
enum DepthwiseInterleaved {
    static let maximumPlane = 32 * 32

    static func convolve(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         bias: [Float]?, clamp: Conv.Clamp, batch: Int, channels: Int, geometry g: WindowGeometry) {
        let (h, wd) = (g.input[0], g.input[1])
        let (oh, ow) = (g.output[0], g.output[1])
        let (kh, kw) = (g.kernel[0], g.kernel[1])
        let (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, dw) = (g.dilations[0], g.dilations[1])
        let (ph, pw) = (g.padsBegin[0], g.padsBegin[1])
        let paddedHeight = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
        let paddedWidth = max(wd + pw, (ow - 1) * sw + (kw - 1) * dw + 1)
        let blocksPerImage = (channels + 7) / 8
        let low = SIMD8<Float>(repeating: clamp.low), high = SIMD8<Float>(repeating: clamp.high)
        let taps = kh * kw
        Parallel.forChunks(batch * blocksPerImage, minimumPerWorker: 1) { blocks in
            let buffer = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: paddedHeight * paddedWidth)
            let weights = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: taps)
            let result = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: oh * ow)
            defer { buffer.deallocate(); weights.deallocate(); result.deallocate() }
            buffer.initialize(repeating: SIMD8(), count: paddedHeight * paddedWidth)
            for block in blocks {
                let image = block / blocksPerImage, first = (block % blocksPerImage) * 8
                let lanes = min(8, channels - first)
                var b = SIMD8<Float>()
                for lane in 0..<lanes { b[lane] = bias?[first + lane] ?? 0 }
                for t in 0..<taps {
                    var v = SIMD8<Float>()
                    for lane in 0..<lanes { v[lane] = w[(first + lane) * taps + t] }
                    weights[t] = v
                }
                // Interleave the block's planes into the padded buffer (padding stays zero).
                for lane in 0..<8 {
                    let plane = lane < lanes ? x + ((image * channels) + first + lane) * h * wd : nil
                    for row in 0..<h {
                        let target = UnsafeMutableRawPointer(buffer + (row + ph) * paddedWidth + pw)
                            .assumingMemoryBound(to: Float.self) + lane
                        if let plane {
                            let source = plane + row * wd
                            for column in 0..<wd { target[column &* 8] = source[column] }
                        } else {
                            for column in 0..<wd { target[column &* 8] = 0 }
                        }
                    }
                }
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = b
                        var t = 0
                        for ky in 0..<kh {
                            let row = buffer + (oy * sh + ky * dh) * paddedWidth + ox * sw
                            for kx in 0..<kw {
                                sum.addProduct(weights[t], row[kx * dw])
                                t += 1
                            }
                        }
                        result[oy * ow + ox] = sum.replacing(with: low, where: sum .< low).replacing(with: high, where: sum .> high)
                    }
                }
                // De-interleave into the NCHW output planes.
                let count = oh * ow
                let flat = UnsafeRawPointer(result).assumingMemoryBound(to: Float.self)
                for lane in 0..<lanes {
                    let out = y + ((image * channels) + first + lane) * count
                    for i in 0..<count { out[i] = flat[i &* 8 &+ lane] }
                }
            }
        }
    }
}
