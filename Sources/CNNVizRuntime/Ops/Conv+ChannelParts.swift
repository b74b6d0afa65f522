/// A 1×1 conv of a channel concatenation, read part by part (`ReadsChannelParts`): with Wᵢ the
/// Cᵢ columns of W at the part's channel offset oᵢ,
///   y = clamp(b + Σᵢ Wᵢ·xᵢ),   ∂L/∂xᵢ = Wᵢᵀ·g (times [xᵢ > 0] for a rectified part),
/// per image, with Wᵢ read in place (leading dimension C). Only group 1 and 1×1 kernels with
/// stride 1 and no padding; the weights' and bias's gradients need the concatenation, so
/// such passes build it.
extension Conv: ReadsChannelParts {
    var readsChannelParts: Bool { group == 1 && !DNNLConvolution.isChosen }

    func accepts(parts: [Tensor], inputs: [Tensor?]) -> Bool {
        guard let first = parts.first, first.rank == 4, inputs.count >= 2, let w = inputs[1], w.rank == 4,
              w.isFloatingPoint, w.shape[2] == 1, w.shape[3] == 1,
              parts.allSatisfy({ $0.rank == 4 && $0.elementType == .float32 && $0.shape[0] == first.shape[0] && $0.shape[2...] == first.shape[2...] }),
              parts.reduce(0, { $0 + $1.shape[1] }) == w.shape[1],
              inputs.optional(2).map({ $0.count == w.shape[0] }) ?? true,
              let geometry = try? WindowGeometry(input: Array(first.shape[2...]), kernel: [1, 1], attributes: window)
        else { return false }
        return geometry.isPointwise
    }

    func forward(parts: [Tensor], inputs: [Tensor?], clamp: Clamp) throws -> [Tensor] {
        let w = try inputs.requiredFloat(1, "W"), bias = inputs.optional(2)?.floats
        let (batch, m, c) = (parts[0].shape[0], w.shape[0], w.shape[1])
        let plane = parts[0].shape[2] * parts[0].shape[3]
        let sources = parts.map(\.floats), offsets = parts.channelOffsets
        // Column tiles of each image, as `dense` cuts them: within the L2 budget, at least 256
        // columns, and two or more jobs a worker where the planes allow.
        let largest = min(plane, max(256, Conv.tileBudget / max(c, 1)))
        var tilesPerPlane = (plane + largest - 1) / largest
        let wanted = (2 * Parallel.workers + batch - 1) / batch
        if tilesPerPlane < wanted { tilesPerPlane = max(tilesPerPlane, min(wanted, plane / 256)) }
        let tile = (plane + tilesPerPlane - 1) / tilesPerPlane
        tilesPerPlane = (plane + tile - 1) / tile
        return [w.withFloats { wp in
            Tensor.filled(shape: [batch, m] + Array(parts[0].shape[2...])) { yp in
                if batch * tilesPerPlane < 2 * Parallel.workers {
                    // Too few tiles to share out (one image of a late layer): each product split
                    // across the workers, onto the bias, as `dense` does.
                    if let bias { Conv.fill(yp.baseAddress!, bias: bias, batch: batch, channels: m, plane: plane) }
                    for image in 0..<batch {
                        for (index, source) in sources.enumerated() {
                            let channels = parts[index].shape[1]
                            source.withUnsafeBufferPointer { xp in
                                GEMM.multiply(m: m, n: plane, k: channels, a: wp.baseAddress! + offsets[index], lda: c,
                                              b: xp.baseAddress! + image * channels * plane, ldb: plane,
                                              c: yp.baseAddress! + image * m * plane, ldc: plane,
                                              beta: bias == nil && index == 0 ? 0 : 1)
                            }
                        }
                    }
                    Conv.epilogue(yp.baseAddress!, bias: nil, clamp: clamp, batch: batch, channels: m, plane: plane)
                    return
                }
                Parallel.forEach(batch * tilesPerPlane) { job in
                    let (image, tileIndex) = job.quotientAndRemainder(dividingBy: tilesPerPlane)
                    let start = tileIndex * tile, width = min(tile, plane - start)
                    let output = yp.baseAddress! + image * m * plane + start
                    for (index, source) in sources.enumerated() {
                        let channels = parts[index].shape[1]
                        source.withUnsafeBufferPointer { xp in
                            GEMM.single(m: m, n: width, k: channels, a: wp.baseAddress! + offsets[index], lda: c, transposeA: false,
                                        b: xp.baseAddress! + image * channels * plane + start, ldb: plane, transposeB: false,
                                        c: output, ldc: plane, alpha: 1, beta: index == 0 ? 0 : 1)
                        }
                    }
                    for row in 0..<m { Conv.applyBias(output + row * plane, count: width, bias: bias?[row] ?? 0, clamp: clamp) }
                }
            }
        }]
    }

    func backward(parts: [Tensor], inputs: [Tensor?], outputGradient g: Tensor, rectified: [Bool], needs: [Bool]) throws -> [Tensor?] {
        let w = try inputs.requiredFloat(1, "W")
        let (batch, m, c) = (parts[0].shape[0], w.shape[0], w.shape[1])
        let plane = parts[0].shape[2] * parts[0].shape[3]
        guard g.shape == [batch, m] + Array(parts[0].shape[2...]) else {
            throw CNNVizError(.shapeMismatch, "Conv output gradient has shape \(g.shape), expected \([batch, m] + Array(parts[0].shape[2...]))")
        }
        let offsets = parts.channelOffsets
        return g.withFloats { gp in
            w.withFloats { wp in
                parts.enumerated().map { index, part in
                    let (channels, partOffset) = (part.shape[1], offsets[index])
                    guard needs[index] else { return nil }
                    return part.withFloats { xp in
                        Tensor.filled(shape: part.shape, elementType: part.elementType) { dp in
                            // One image's product per job for a batch (its mask applied while the
                            // product is in cache); one image's product split across the workers.
                            let perImage = batch >= 2 * Parallel.workers
                            let product = { (image: Int) in
                                let out = dp.baseAddress! + image * channels * plane
                                let (a, b) = (wp.baseAddress! + partOffset, gp.baseAddress! + image * m * plane)
                                if perImage {
                                    GEMM.single(m: channels, n: plane, k: m, a: a, lda: c, transposeA: true, b: b, ldb: plane,
                                                transposeB: false, c: out, ldc: plane, alpha: 1, beta: 0)
                                } else {
                                    GEMM.multiply(m: channels, n: plane, k: m, a: a, lda: c, transposeA: true, b: b, ldb: plane,
                                                  c: out, ldc: plane)
                                }
                                guard rectified[index] else { return }
                                let mask = xp.baseAddress! + image * channels * plane
                                if perImage {
                                    Activations.passWherePositive(out, mask, into: out, count: channels * plane)
                                } else {
                                    Parallel.forChunks(channels * plane, minimumPerWorker: 1 << 14) { range in
                                        Activations.passWherePositive(out + range.lowerBound, mask + range.lowerBound,
                                                                      into: out + range.lowerBound, count: range.count)
                                    }
                                }
                            }
                            if perImage { Parallel.forEach(batch, product) } else { (0..<batch).forEach(product) }
                        }
                    }
                }
            }
        }
    }
}
