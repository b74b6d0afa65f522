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
        let (h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw) = g.planar
        let paddedHeight = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
        let paddedWidth = max(wd + pw, (ow - 1) * sw + (kw - 1) * dw + 1)
        let blocksPerImage = (channels + 7) / 8
        let low = SIMD8<Float>(repeating: clamp.low), high = SIMD8<Float>(repeating: clamp.high)
        let taps = kh * kw
        Parallel.forChunks(batch * blocksPerImage, minimumPerWorker: 1) { blocks in
            let buffer = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: paddedHeight * paddedWidth)
            let weights = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: taps)
            let result = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: oh * ow)
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: 64)
            defer { buffer.deallocate(); weights.deallocate(); result.deallocate(); tile.deallocate() }
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
                // Interleave the block's planes into the padded buffer (padding stays zero),
                // eight columns at a time through an 8×8 transpose.
                let planes = x + ((image * channels) + first) * h * wd, planeSize = h * wd
                for row in 0..<h {
                    let target = buffer + (row + ph) * paddedWidth + pw
                    var column = 0
                    if lanes == 8 {
                        while column + 8 <= wd {
                            let block = EightByEight(rows: planes + row * wd + column, stride: planeSize).transposed
                            for k in 0..<8 { target[column + k] = block[k] }
                            column += 8
                        }
                    }
                    while column < wd {
                        // The last (wd mod 8) columns, and partial blocks, through a zero-filled 8×8 tile.
                        let remaining = min(8, wd - column)
                        tile.update(repeating: 0, count: 64)
                        for lane in 0..<lanes {
                            (tile + lane * 8).update(from: planes + lane * planeSize + row * wd + column, count: remaining)
                        }
                        let block = EightByEight(rows: UnsafePointer(tile), stride: 8).transposed
                        for k in 0..<remaining { target[column + k] = block[k] }
                        column += remaining
                    }
                }
                if kh == 3 && kw == 3 && dh == 1 && dw == 1 {
                    // The common 3×3 case with its nine weight vectors held in registers.
                    let (w0, w1, w2, w3, w4, w5, w6, w7, w8) =
                        (weights[0], weights[1], weights[2], weights[3], weights[4], weights[5], weights[6], weights[7], weights[8])
                    for oy in 0..<oh {
                        let r0 = buffer + oy * sh * paddedWidth, r1 = r0 + paddedWidth, r2 = r1 + paddedWidth
                        let out = result + oy * ow
                        for ox in 0..<ow {
                            let c = ox &* sw
                            var sum = b
                            sum.addProduct(w0, r0[c]); sum.addProduct(w1, r0[c &+ 1]); sum.addProduct(w2, r0[c &+ 2])
                            sum.addProduct(w3, r1[c]); sum.addProduct(w4, r1[c &+ 1]); sum.addProduct(w5, r1[c &+ 2])
                            sum.addProduct(w6, r2[c]); sum.addProduct(w7, r2[c &+ 1]); sum.addProduct(w8, r2[c &+ 2])
                            out[ox] = sum.replacing(with: low, where: sum .< low).replacing(with: high, where: sum .> high)
                        }
                    }
                } else {
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
                }
                // De-interleave into the NCHW output planes, eight pixels at a time.
                let count = oh * ow
                let outputs = y + ((image * channels) + first) * count
                var i = 0
                if lanes == 8 {
                    while i + 8 <= count {
                        let block = EightByEight(vectors: result + i).transposed
                        for lane in 0..<8 {
                            UnsafeMutableRawPointer(outputs + lane * count + i).storeBytes(of: block[lane], as: SIMD8<Float>.self)
                        }
                        i += 8
                    }
                }
                while i < count {
                    // The last (count mod 8) pixels, and partial blocks, through the same tile.
                    let remaining = min(8, count - i)
                    let vectors = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: SIMD8<Float>.self)
                    for p in 0..<8 { vectors[p] = p < remaining ? result[i + p] : SIMD8() }
                    let block = EightByEight(vectors: UnsafePointer(vectors)).transposed
                    for lane in 0..<lanes {
                        withUnsafeBytes(of: block[lane]) { bytes in
                            (outputs + lane * count + i).update(from: bytes.baseAddress!.assumingMemoryBound(to: Float.self), count: remaining)
                        }
                    }
                    i += remaining
                }
            }
        }
    }
}

/// An 8×8 block of floats as eight 8-vectors, transposed with three perfect unshuffles:
/// splitting the 64 values into evens and odds rotates each index's 6 bits right by one, so
/// three splits turn index r·8 + c into c·8 + r.
struct EightByEight {
    var quarters: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    /// Rows at `rows`, `rows + stride`, … `rows + 7·stride`.
    @inline(__always)
    init(rows: UnsafePointer<Float>, stride: Int) {
        func load(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(rows + k * stride).loadUnaligned(as: SIMD8<Float>.self) }
        quarters = (SIMD16(lowHalf: load(0), highHalf: load(1)), SIMD16(lowHalf: load(2), highHalf: load(3)),
                    SIMD16(lowHalf: load(4), highHalf: load(5)), SIMD16(lowHalf: load(6), highHalf: load(7)))
    }

    @inline(__always)
    init(vectors: UnsafePointer<SIMD8<Float>>) {
        quarters = (SIMD16(lowHalf: vectors[0], highHalf: vectors[1]), SIMD16(lowHalf: vectors[2], highHalf: vectors[3]),
                    SIMD16(lowHalf: vectors[4], highHalf: vectors[5]), SIMD16(lowHalf: vectors[6], highHalf: vectors[7]))
    }

    @inline(__always)
    var transposed: EightByEight {
        var q = quarters
        for _ in 0..<3 {
            q = (SIMD16(lowHalf: q.0.evenHalf, highHalf: q.1.evenHalf), SIMD16(lowHalf: q.2.evenHalf, highHalf: q.3.evenHalf),
                 SIMD16(lowHalf: q.0.oddHalf, highHalf: q.1.oddHalf), SIMD16(lowHalf: q.2.oddHalf, highHalf: q.3.oddHalf))
        }
        var copy = self
        copy.quarters = q
        return copy
    }

    @inline(__always)
    subscript(row: Int) -> SIMD8<Float> {
        switch row {
        case 0: return quarters.0.lowHalf
        case 1: return quarters.0.highHalf
        case 2: return quarters.1.lowHalf
        case 3: return quarters.1.highHalf
        case 4: return quarters.2.lowHalf
        case 5: return quarters.2.highHalf
        case 6: return quarters.3.lowHalf
        default: return quarters.3.highHalf
        }
    }
}
