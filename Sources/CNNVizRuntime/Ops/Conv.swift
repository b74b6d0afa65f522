import Foundation
/// Conv: y[n,m] = b[m] + Σ_c Σ_k w[m,c,k] · x[n, g·C/G + c, window(k)], for 1-D and 2-D inputs.
///
/// Grouped and depthwise convolutions, strides, dilations, pads and `auto_pad`.
/// Dense groups run as im2col + SGEMM (OpenBLAS) over tiles of output columns, each worker
/// unfolding and multiplying its own tiles so the unfolded tile is still in cache when the
/// product reads it; 1×1 stride-1 convs skip the unfold. Depthwise convs (one input and one
/// output channel per group) use a direct kernel. Bias and an optional clamp (ReLU, ReLU6) are
/// applied to each tile right after its product.
/// Pitfall: the full im2col matrix is K·oh·ow floats (115 MB for VGG's first layers); tiles keep
/// it near `tileBudget` floats per worker.
struct Conv: Operator {
    let window: WindowGeometry.Attributes
    let group: Int
    /// Floats of unfolded input per tile: about 1 MiB, within a core's L2.
    static let tileBudget = 1 << 18

    /// An activation folded into the output pass: y = min(max(y, low), high).
    struct Clamp {
        var low: Float
        var high: Float
        static let none = Clamp(low: -.infinity, high: .infinity)
        static let relu = Clamp(low: 0, high: .infinity)
        var isNone: Bool { low == -.infinity && high == .infinity }
    }

    init(node: Node) throws {
        window = try WindowGeometry.Attributes(node: node)
        group = try node.int("group", default: 1)
        guard group >= 1 else { throw CNNVizError(.invalidAttribute, "group must be ≥ 1, found \(group)", location: node.location) }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        [try convolve(inputs, clamp: .none)]
    }

    /// The convolution, with an activation clamp applied in the same pass over the output.
    func convolve(_ inputs: [Tensor?], clamp: Clamp) throws -> Tensor {
        let x = try inputs.requiredFloat(0, "X"), w = try inputs.requiredFloat(1, "W")
        let bias = inputs.optional(2)
        try x.expectRank(3...4, "Conv input X")
        guard w.rank == x.rank else {
            throw CNNVizError(.shapeMismatch, "Conv weight W must have the rank of X (\(x.rank)), found shape \(w.shape)")
        }
        // A 1-D conv is a 2-D conv over a 1-pixel-high image.
        let lift = x.rank == 3
        let xShape = lift ? [x.shape[0], x.shape[1], 1, x.shape[2]] : x.shape
        let wShape = lift ? [w.shape[0], w.shape[1], 1, w.shape[2]] : w.shape
        var attributes = window
        if lift {
            attributes.kernel = attributes.kernel.map { [1] + $0 }
            attributes.strides = attributes.strides.map { [1] + $0 }
            attributes.dilations = attributes.dilations.map { [1] + $0 }
            attributes.pads = attributes.pads.map { [0, $0[0], 0, $0[1]] }
        }
        let (n, c, m) = (xShape[0], xShape[1], wShape[0])
        guard c == wShape[1] * group, m % group == 0 else {
            throw CNNVizError(.shapeMismatch,
                              "Conv input has \(c) channels and weight \(w.shape) with group \(group): expected X channels = W.shape[1]·group = \(wShape[1] * group) and W.shape[0] divisible by group")
        }
        if let bias, bias.count != m {
            throw CNNVizError(.shapeMismatch, "Conv bias B must have \(m) values (one per output channel), found shape \(bias.shape)")
        }
        let geometry = try WindowGeometry(input: Array(xShape[2...]), kernel: Array(wShape[2...]), attributes: attributes)
        let (oh, ow) = (geometry.output[0], geometry.output[1])
        let outShape = lift ? [n, m, ow] : [n, m, oh, ow]
        let biasValues = bias?.floats
        return x.withFloats { xp in
            w.withFloats { wp in
                Tensor.filled(shape: outShape, elementType: x.elementType) { yp in
                    let y = yp.baseAddress!
                    let cg = c / group, mg = m / group
                    if cg == 1 && mg == 1 {
                        Conv.depthwise(xp.baseAddress!, wp.baseAddress!, y, batch: n, channels: c, geometry: geometry)
                        Conv.epilogue(y, bias: biasValues, clamp: clamp, batch: n, channels: m, plane: oh * ow)
                    } else {
                        Conv.dense(xp.baseAddress!, wp.baseAddress!, y, bias: biasValues, clamp: clamp, batch: n,
                                   inChannels: c, outChannels: m, group: group, geometry: geometry)
                    }
                }
            }
        }
    }

    /// im2col + SGEMM over column tiles, each worker taking every `workers`-th tile.
    static func dense(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                      bias: [Float]?, clamp: Clamp, batch: Int, inChannels c: Int, outChannels m: Int, group: Int,
                      geometry: WindowGeometry) {
        let (h, wd) = (geometry.input[0], geometry.input[1])
        let columns = geometry.output[0] * geometry.output[1]
        let cg = c / group, mg = m / group
        let k = cg * geometry.kernel[0] * geometry.kernel[1]
        let pointwise = geometry.isPointwise
        // At least 256 columns per product, so that packing the weights once per call stays cheap.
        let tile = min(columns, max(256, tileBudget / max(k, 1)))
        let tilesPerPlane = (columns + tile - 1) / tile
        let jobs = batch * group * tilesPerPlane
        if jobs < 2 * Parallel.workers || ProcessInfo.processInfo.environment["CNNVIZ_PLANES"] != nil {
            // Too few tiles to share out (late layers: few pixels, many channels): unfold whole
            // planes and let GEMM split each product across the workers instead.
            denseByPlanes(x, w, y, bias: bias, clamp: clamp, batch: batch, inChannels: c, outChannels: m, group: group,
                          geometry: geometry)
            return
        }
        let workers = min(Parallel.workers, jobs)
        let scratch = pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: workers * k * tile)
        defer { scratch?.deallocate() }
        Parallel.forEach(workers) { worker in
            var job = worker
            while job < jobs {
                let tileIndex = job % tilesPerPlane, g = (job / tilesPerPlane) % group, image = job / (tilesPerPlane * group)
                let start = tileIndex * tile, width = min(tile, columns - start)
                let input = x + (image * c + g * cg) * h * wd
                let output = y + (image * m + g * mg) * columns + start
                let b: UnsafePointer<Float>
                let ldb: Int
                if let scratch {
                    let mine = scratch + worker * k * tile
                    Im2Col.unfold(input, channels: cg, geometry: geometry, columnRange: start..<start + width, into: mine,
                                  parallel: false)
                    (b, ldb) = (UnsafePointer(mine), width)
                } else {
                    (b, ldb) = (input + start, columns)
                }
                GEMM.single(m: mg, n: width, k: k, a: w + g * mg * k, lda: k, transposeA: false, b: b, ldb: ldb,
                            transposeB: false, c: output, ldc: columns, alpha: 1, beta: 0)
                for row in 0..<mg {
                    applyBias(output + row * columns, count: width, bias: bias?[g * mg + row] ?? 0, clamp: clamp)
                }
                job += workers
            }
        }
    }

    /// One unfold and one (internally parallel) product per image and group.
    static func denseByPlanes(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              bias: [Float]?, clamp: Clamp, batch: Int, inChannels c: Int, outChannels m: Int, group: Int,
                              geometry: WindowGeometry) {
        let (h, wd) = (geometry.input[0], geometry.input[1])
        let columns = geometry.output[0] * geometry.output[1]
        let cg = c / group, mg = m / group
        let k = cg * geometry.kernel[0] * geometry.kernel[1]
        let scratch = geometry.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * columns)
        defer { scratch?.deallocate() }
        for image in 0..<batch {
            for g in 0..<group {
                let input = x + (image * c + g * cg) * h * wd
                if let scratch { Im2Col.unfold(input, channels: cg, geometry: geometry, columnRange: 0..<columns, into: scratch) }
                GEMM.multiply(m: mg, n: columns, k: k, a: w + g * mg * k, lda: k, b: scratch.map { UnsafePointer($0) } ?? input,
                              ldb: columns, c: y + (image * m + g * mg) * columns, ldc: columns)
            }
        }
        epilogue(y, bias: bias, clamp: clamp, batch: batch, channels: m, plane: columns)
    }

    @inline(__always)
    static func applyBias(_ p: UnsafeMutablePointer<Float>, count: Int, bias: Float, clamp: Clamp) {
        if clamp.isNone {
            if bias != 0 { for i in 0..<count { p[i] += bias } }
        } else {
            let (low, high) = (clamp.low, clamp.high)
            for i in 0..<count { p[i] = Swift.min(Swift.max(p[i] + bias, low), high) }
        }
    }

    /// One filter per channel: y[c] = Σ_k w[c,k] · x[c, window(k)], accumulated tap by tap
    /// over contiguous output rows so that the inner loop vectorises.
    static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          batch: Int, channels: Int, geometry g: WindowGeometry) {
        let (h, wd) = (g.input[0], g.input[1])
        let (oh, ow) = (g.output[0], g.output[1])
        let (kh, kw) = (g.kernel[0], g.kernel[1])
        let (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, dw) = (g.dilations[0], g.dilations[1])
        let (ph, pw) = (g.padsBegin[0], g.padsBegin[1])
        Parallel.forEach(batch * channels) { plane in
            let c = plane % channels
            let input = x + plane * h * wd
            let output = y + plane * oh * ow
            output.initialize(repeating: 0, count: oh * ow)
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let weight = w[(c * kh + ky) * kw + kx]
                    let offset = kx * dw - pw
                    // Output columns whose input column ox·sw + offset lies inside the image.
                    let first = max(0, (-offset + sw - 1) / sw)
                    let last = min(ow, (wd - 1 - offset) / sw + 1)
                    if first >= last || (wd - 1 - offset) < 0 { continue }
                    for oy in 0..<oh {
                        let iy = oy * sh - ph + ky * dh
                        if iy < 0 || iy >= h { continue }
                        let row = input + iy * wd + offset
                        let out = output + oy * ow
                        if sw == 1 {
                            for ox in first..<last { out[ox] += weight * row[ox] }
                        } else {
                            for ox in first..<last { out[ox] += weight * row[ox * sw] }
                        }
                    }
                }
            }
        }
    }

    /// y[n,m,:] = clamp(y[n,m,:] + b[m]), one pass per plane.
    static func epilogue(_ y: UnsafeMutablePointer<Float>, bias: [Float]?, clamp: Clamp, batch: Int, channels: Int, plane: Int) {
        guard bias != nil || !clamp.isNone else { return }
        Parallel.forChunks(batch * channels, minimumPerWorker: max(1, 16384 / max(plane, 1))) { planes in
            for index in planes {
                applyBias(y + index * plane, count: plane, bias: bias?[index % channels] ?? 0, clamp: clamp)
            }
        }
    }
}
