import Foundation
/// Conv: y[n,m] = b[m] + Σ_c Σ_k w[m,c,k] · x[n, g·C/G + c, window(k)], for 1-D and 2-D inputs.
///
/// Grouped and depthwise convolutions, strides, dilations, pads and `auto_pad`.
/// With CNNVIZ_ENGINE=dnnl (`DNNLConvolution.isChosen`) oneDNN runs it; otherwise, by
/// default, cnn-viz's own kernels below do.
/// Dense groups run as im2col + SGEMM (OpenBLAS) over tiles of output columns, each worker
/// unfolding and multiplying its own tiles so the unfolded tile is still in cache when the
/// product reads it; 1×1 stride-1 convs skip the unfold. Depthwise convs (one input and one
/// output channel per group) use a direct kernel, dense 3×3 stride-1 convs Winograd
/// (`Winograd`), and convs over at most 4 input channels another direct kernel
/// (`FewChannelConv`). Bias and an optional clamp (ReLU, ReLU6) are applied to each tile right
/// after its product.
/// Pitfall: the full im2col matrix is K·oh·ow floats (115 MB for VGG's first layers); tiles keep
/// it near `tileBudget` floats per worker.
struct Conv: Operator {
    let window: WindowGeometry.Attributes
    let group: Int
    /// Winograd's transformed filters, the direct kernel's blocked ones and the backward pass's
    /// flipped ones, made once per session.
    let derived: DerivedWeights
    /// Set CNNVIZ_CONV=im2col to run every dense conv through im2col (for comparisons).
    static let forceIm2Col = ProcessInfo.processInfo.environment["CNNVIZ_CONV"] == "im2col"

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

    init(window: WindowGeometry.Attributes, group: Int, derived: DerivedWeights = DerivedWeights()) {
        self.window = window
        self.group = group
        self.derived = derived
    }

    init(node: Node) throws {
        window = try WindowGeometry.Attributes(node: node)
        group = try node.int("group", default: 1)
        guard group >= 1 else { throw CNNVizError(.invalidAttribute, "group must be ≥ 1, found \(group)", location: node.location) }
        derived = DerivedWeights()
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
        let (xShape, wShape, attributes) = try planar(x, w)
        let lift = x.rank == 3
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
        if n == 0 || m == 0 || c == 0 {
            // Nothing to convolve (an empty batch, or no channels): the bias alone, or nothing.
            let plane = oh * ow
            return Tensor(shape: outShape, floats: (0..<(n * m * plane)).map {
                Swift.min(Swift.max(biasValues?[($0 / plane) % m] ?? 0, clamp.low), clamp.high)
            }, elementType: x.elementType)
        }
        let cg = c / group, mg = m / group
        if DNNLConvolution.isChosen {
            return try convolveOnDNNL(x, w, bias: bias, clamp: clamp, batch: n, inChannels: c, outChannels: m, geometry: geometry, outShape: outShape)
        }
        let depthwise = cg == 1 && mg == 1
        let winograd = !depthwise && !Conv.forceIm2Col && Winograd.applies(to: geometry, group: group, batch: n, inChannels: c)
        let fewChannels = !depthwise && !winograd && !Conv.forceIm2Col
            && FewChannelConv.applies(group: group, inChannels: c, geometry: geometry)
        // The weights as the chosen kernel reads them, made once per session.
        let prepared = winograd ? derived.value("winograd", from: w.floats) {
            Winograd.transformedWeights($0, outChannels: m, inChannels: c)
        } : fewChannels ? derived.value("few-channel", from: w.floats) {
            FewChannelConv.blockedWeights($0, outChannels: m, taps: c * geometry.kernel[0] * geometry.kernel[1])
        } : []
        return x.withFloats { xp in
            w.withFloats { wp in
                Tensor.filled(shape: outShape, elementType: x.elementType) { yp in
                    let y = yp.baseAddress!
                    if depthwise && geometry.input[0] * geometry.input[1] <= DepthwiseInterleaved.maximumPlane {
                        DepthwiseInterleaved.convolve(xp.baseAddress!, wp.baseAddress!, y, bias: biasValues, clamp: clamp,
                                                      batch: n, channels: c, geometry: geometry)
                    } else if depthwise {
                        Conv.depthwise(xp.baseAddress!, wp.baseAddress!, y, bias: biasValues, clamp: clamp, batch: n, channels: c,
                                       geometry: geometry)
                    } else if winograd {
                        prepared.withUnsafeBufferPointer { u in
                            Winograd.convolve(xp.baseAddress!, transformedWeights: u.baseAddress!, y, bias: biasValues, clamp: clamp,
                                              batch: n, inChannels: c, outChannels: m, geometry: geometry)
                        }
                    } else if fewChannels {
                        prepared.withUnsafeBufferPointer { blocked in
                            FewChannelConv.convolve(xp.baseAddress!, blocked: blocked.baseAddress!, y, bias: biasValues, clamp: clamp,
                                                    batch: n, inChannels: c, outChannels: m, geometry: geometry)
                        }
                    } else {
                        Conv.dense(xp.baseAddress!, wp.baseAddress!, y, bias: biasValues, clamp: clamp, batch: n,
                                   inChannels: c, outChannels: m, group: group, geometry: geometry)
                    }
                }
            }
        }
    }

    /// The convolution on oneDNN, its primitive made once per session and problem.
    ///
    /// The primitive is made for one image and run once per image of the batch: oneDNN's
    /// kernels for a batch block and split the work differently, so an image's values (their
    /// last bits) would depend on the batch it came in, and near-tied max-pool windows with
    /// them. Batch-invariant results keep a batched attribution equal to the single-image one.
    func convolveOnDNNL(_ x: Tensor, _ w: Tensor, bias: Tensor?, clamp: Clamp, batch: Int, inChannels: Int, outChannels: Int,
                        geometry: WindowGeometry, outShape: [Int]) throws -> Tensor {
        let weights = w.floats, biasValues = bias?.floats
        let key = "dnnl \(inChannels) \(outChannels) \(geometry) \(clamp.low) \(clamp.high)"
        let primitive = try derived.object(key, from: [weights] + (biasValues.map { [$0] } ?? [])) {
            try weights.withUnsafeBufferPointer { wp in
                try Conv.withOptionalPointer(biasValues) { bp in
                    try DNNLConvolution(batch: 1, inChannels: inChannels, outChannels: outChannels, group: group, geometry: geometry,
                                        clamp: clamp, weights: wp.baseAddress!, bias: bp)
                }
            }
        }
        let inItem = inChannels * geometry.input[0] * geometry.input[1], outItem = outChannels * geometry.output[0] * geometry.output[1]
        return try x.withFloats { xp in
            try Tensor.filled(shape: outShape, elementType: x.elementType) { yp in
                for item in 0..<batch { try primitive.run(xp.baseAddress! + item * inItem, yp.baseAddress! + item * outItem) }
            }
        }
    }

    static func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let values else { return try body(nil) }
        return try values.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// The problem as a 2-D conv: a 1-D conv is a 2-D conv over a 1-pixel-high image.
    func planar(_ x: Tensor, _ w: Tensor) throws -> (x: [Int], w: [Int], attributes: WindowGeometry.Attributes) {
        guard x.rank == 3 else { return (x.shape, w.shape, window) }
        var attributes = window
        for (name, values, expected) in [("pads", attributes.pads, 2), ("kernel_shape", attributes.kernel, 1),
                                         ("strides", attributes.strides, 1), ("dilations", attributes.dilations, 1)] {
            if let values, values.count != expected {
                throw CNNVizError(.shapeMismatch, "1-D Conv \(name) must have \(expected) value(s), found \(values)")
            }
        }
        attributes.kernel = attributes.kernel.map { [1] + $0 }
        attributes.strides = attributes.strides.map { [1] + $0 }
        attributes.dilations = attributes.dilations.map { [1] + $0 }
        attributes.pads = attributes.pads.map { [0, $0[0], 0, $0[1]] }
        return ([x.shape[0], x.shape[1], 1, x.shape[2]], [w.shape[0], w.shape[1], 1, w.shape[2]], attributes)
    }

    /// im2col + SGEMM over column tiles, shared out one tile at a time; or, for 1×1 convs and
    /// when there are too few tiles, whole planes with each product split across the workers.
    static func dense(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                      bias: [Float]?, clamp: Clamp, batch: Int, inChannels c: Int, outChannels m: Int, group: Int,
                      geometry: WindowGeometry) {
        let (plane, columns) = (geometry.input[0] * geometry.input[1], geometry.output[0] * geometry.output[1])
        let (cg, mg) = (c / group, m / group)
        let k = cg * geometry.kernel[0] * geometry.kernel[1]
        let pointwise = geometry.isPointwise
        // At least 256 columns per product, so that packing the weights once per call stays cheap;
        // at most the L2 budget; and, where the plane allows, enough tiles for two per worker.
        // Tiles are then evened out so that no worker waits on a short last tile.
        let planes = batch * group
        let largestTile = min(columns, max(256, tileBudget / max(k, 1)))
        var tilesPerPlane = (columns + largestTile - 1) / largestTile
        let wanted = (2 * Parallel.workers + planes - 1) / planes
        if tilesPerPlane < wanted { tilesPerPlane = max(tilesPerPlane, min(wanted, columns / 256)) }
        // A job count that is a multiple of the workers keeps them even on an idle machine.
        let total = planes * tilesPerPlane
        if total % Parallel.workers != 0 && planes == 1 && columns / (tilesPerPlane + Parallel.workers) >= 128 {
            tilesPerPlane += Parallel.workers - total % Parallel.workers
        }
        let tile = (columns + tilesPerPlane - 1) / tilesPerPlane
        tilesPerPlane = (columns + tile - 1) / tile
        let jobs = planes * tilesPerPlane
        if jobs < 2 * Parallel.workers || pointwise {
            // Too few tiles to share out (late layers: few pixels, many channels), or a 1×1 conv
            // with nothing to unfold: one product per plane, split across the workers by GEMM
            // (fewer, larger products beat tiles here: measured 1–4% on MobileNetV2 and ResNet-50).
            // The output starts as the bias and the products add to it (beta = 1), which spares
            // OpenBLAS its own pass zeroing C (beta = 0) and us a pass adding the bias.
            let scratch = pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * columns)
            defer { scratch?.deallocate() }
            if let bias { fill(y, bias: bias, batch: batch, channels: m, plane: columns) }
            for image in 0..<batch {
                for g in 0..<group {
                    let input = x + (image * c + g * cg) * plane
                    if let scratch { Im2Col.unfold(input, channels: cg, geometry: geometry, columnRange: 0..<columns, into: scratch) }
                    GEMM.multiply(m: mg, n: columns, k: k, a: w + g * mg * k, lda: k, b: scratch.map { UnsafePointer($0) } ?? input,
                                  ldb: columns, c: y + (image * m + g * mg) * columns, ldc: columns, beta: bias == nil ? 0 : 1)
                }
            }
            epilogue(y, bias: nil, clamp: clamp, batch: batch, channels: m, plane: columns)
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.workers * k * tile)
        defer { scratch.deallocate() }
        Parallel.forEach(jobs) { job, worker in
                let tileIndex = job % tilesPerPlane, g = (job / tilesPerPlane) % group, image = job / (tilesPerPlane * group)
                let start = tileIndex * tile, width = min(tile, columns - start)
                let input = x + (image * c + g * cg) * plane
                let output = y + (image * m + g * mg) * columns + start
                let unfolded = scratch + worker * k * tile
                Im2Col.unfold(input, channels: cg, geometry: geometry, columnRange: start..<start + width, into: unfolded,
                              parallel: false)
                GEMM.single(m: mg, n: width, k: k, a: w + g * mg * k, lda: k, transposeA: false, b: unfolded, ldb: width,
                            transposeB: false, c: output, ldc: columns, alpha: 1, beta: 0)
                for row in 0..<mg { applyBias(output + row * columns, count: width, bias: bias?[g * mg + row] ?? 0, clamp: clamp) }
        }
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

    /// One filter per channel: y[c] = b[c] + Σ_k w[c,k] · x[c, window(k)], then the clamp.
    ///
    /// Each plane is first copied into a zero-padded buffer whose rows are split into their
    /// `sw` phases (`StridePhases`), so that every tap of every output column reads
    /// contiguous, in-bounds memory. The inner loops then run branch-free and vectorise; 3×3
    /// kernels do all nine taps of an output row in one pass. Bias and clamp are applied in
    /// that pass.
    static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          bias: [Float]?, clamp: Clamp, batch: Int, channels: Int, geometry g: WindowGeometry) {
        let (h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw) = g.planar
        let paddedHeight = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
        let paddedWidth = max(wd + pw, (ow - 1) * sw + (kw - 1) * dw + 1) + sw
        let phaseLength = (paddedWidth + sw - 1) / sw
        let rowStride = sw * phaseLength
        // Per tap: its offset in the padded, phased plane (row ky·dh, phase (kx·dw) mod sw).
        var taps = [Int]()
        for ky in 0..<kh {
            for kx in 0..<kw {
                let o = kx * dw
                taps.append(ky * dh * rowStride + (o % sw) * phaseLength + o / sw)
            }
        }
        taps.withUnsafeBufferPointer { taps in
        Parallel.forChunks(batch * channels, minimumPerWorker: 1) { planes in
            // Two spare rows: the flat stride-1 pass below reads past the last row's end.
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: (paddedHeight + 2) * rowStride)
            let wide = UnsafeMutablePointer<Float>.allocate(capacity: sw == 1 && sh == 1 ? oh * rowStride : 0)
            defer { padded.deallocate(); wide.deallocate() }
            padded.initialize(repeating: 0, count: (paddedHeight + 2) * rowStride)
            for plane in planes {
                let c = plane % channels
                let input = x + plane * h * wd
                let output = y + plane * oh * ow
                for row in 0..<h {
                    StridePhases.copyRow(input + row * wd, width: wd, pad: pw, stride: sw, phaseLength: phaseLength,
                                         into: padded + (row + ph) * rowStride)
                }
                let weights = w + c * kh * kw
                let b = bias?[c] ?? 0
                if sw == 1 && sh == 1 {
                    // Stride 1: treat the padded plane as one long row (oy·rowStride + ox), so short rows
                    // (7×7, 14×14) still fill the vector lanes; the columns past ow are computed and dropped.
                    depthwiseRow(padded, taps: taps, weights: weights, bias: b, clamp: clamp, count: oh * rowStride, into: wide)
                    for oy in 0..<oh { (output + oy * ow).update(from: wide + oy * rowStride, count: ow) }
                } else {
                    for oy in 0..<oh {
                        depthwiseRow(padded + oy * sh * rowStride, taps: taps, weights: weights, bias: b, clamp: clamp,
                                     count: ow, into: output + oy * ow)
                    }
                }
            }
        }
        }
    }

    /// out[i] = clamp(b + Σₜ wₜ · base[tapₜ + i]) for i in 0..<count, in one pass; a 3×3 kernel
    /// keeps its nine weights and source pointers in registers.
    @inline(__always)
    static func depthwiseRow(_ base: UnsafePointer<Float>, taps: UnsafeBufferPointer<Int>, weights: UnsafePointer<Float>, bias b: Float,
                             clamp: Clamp, count: Int, into out: UnsafeMutablePointer<Float>) {
        let (low, high) = (clamp.low, clamp.high)
        if taps.count == 9 {
            let (s0, s1, s2) = (base + taps[0], base + taps[1], base + taps[2])
            let (s3, s4, s5) = (base + taps[3], base + taps[4], base + taps[5])
            let (s6, s7, s8) = (base + taps[6], base + taps[7], base + taps[8])
            let (w0, w1, w2, w3, w4, w5, w6, w7, w8) =
                (weights[0], weights[1], weights[2], weights[3], weights[4], weights[5], weights[6], weights[7], weights[8])
            for i in 0..<count {
                var sum = b + w0 * s0[i] + w1 * s1[i] + w2 * s2[i]
                sum += w3 * s3[i] + w4 * s4[i] + w5 * s5[i]
                sum += w6 * s6[i] + w7 * s7[i] + w8 * s8[i]
                out[i] = Swift.min(Swift.max(sum, low), high)
            }
            return
        }
        out.update(repeating: b, count: count)
        for (t, offset) in taps.enumerated() {
            let weight = weights[t], source = base + offset
            for i in 0..<count { out[i] += weight * source[i] }
        }
        for i in 0..<count { out[i] = Swift.min(Swift.max(out[i], low), high) }
    }

    /// y[n,m,:] = b[m], one pass per plane.
    static func fill(_ y: UnsafeMutablePointer<Float>, bias: [Float], batch: Int, channels: Int, plane: Int) {
        Parallel.forChunks(batch * channels, minimumPerWorker: max(1, 16384 / max(plane, 1))) { planes in
            for index in planes { (y + index * plane).update(repeating: bias[index % channels], count: plane) }
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

extension Conv: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// ∂L/∂x[c, i·s − p + k·d] += Σₘ w[m,c,k]·g[m,i] (the transposed conv), ∂L/∂w[m,c,k] =
    /// Σₙ,ᵢ g[n,m,i]·x[n,c,i·s − p + k·d], ∂L/∂b[m] = Σₙ,ᵢ g[n,m,i], per group.
    ///
    /// Stride-1 convs whose pads are smaller than the kernel extent take ∂L/∂x as a forward conv
    /// of g with the flipped, transposed weights and pads extent − 1 − p, so they reuse the
    /// Winograd and depthwise kernels; strided convs scatter W^T·g back with col2im.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), w = try context.input(1, "W"), g = try context.outputGradient
        let (xShape, wShape, attributes) = try planar(x, w)
        let geometry = try WindowGeometry(input: Array(xShape[2...]), kernel: Array(wShape[2...]), attributes: attributes)
        let gShape = [xShape[0], wShape[0]] + geometry.output
        guard g.count == gShape.reduce(1, *) else {
            throw CNNVizError(.shapeMismatch, "Conv output gradient has shape \(g.shape), expected \(gShape)")
        }
        let planarG = g.reshaped(gShape), planarX = x.reshaped(xShape), planarW = w.reshaped(wShape)
        var result = [Tensor?](repeating: nil, count: context.inputs.count)
        if context.needs(0) {
            result[0] = try inputGradient(planarG, planarW, inputShape: xShape, geometry: geometry, attributes: attributes)
                .reshaped(x.shape)
        }
        if context.needs(1) {
            result[1] = ConvGradients.weights(input: planarX, outputGradient: planarG, weightShape: wShape, group: group,
                                              geometry: geometry).reshaped(w.shape)
        }
        if context.needs(2), let bias = context.inputs.optional(2) {
            result[2] = planarG.sumReduced(to: [1, wShape[0], 1, 1]).reshaped(bias.shape)
        }
        return result
    }

    func inputGradient(_ g: Tensor, _ w: Tensor, inputShape: [Int], geometry: WindowGeometry,
                       attributes: WindowGeometry.Attributes) throws -> Tensor {
        let extent = zip(geometry.kernel, geometry.dilations).map { ($0 - 1) * $1 + 1 }
        let stride1 = geometry.strides.allSatisfy { $0 == 1 }
        let padsFit = (0..<2).allSatisfy { geometry.padsBegin[$0] < extent[$0] && geometry.padsEnd[$0] < extent[$0] }
        if geometry.isPointwise {
            return ConvGradients.pointwiseInput(outputGradient: g, weights: w, inputShape: inputShape, group: group)
        }
        let depthwise = w.shape[1] == 1 && w.shape[0] == group
        guard padsFit && (stride1 || depthwise) else {
            return ConvGradients.inputByCol2Im(outputGradient: g, weights: w, inputShape: inputShape, group: group, geometry: geometry)
        }
        // Strided depthwise convs: g with s − 1 zeros between its pixels, then the same
        // stride-1 transposed conv (the depthwise kernel beats a strided scatter).
        let spread = stride1 ? g : ConvGradients.zeroInterleaved(g, strides: geometry.strides)
        var transposed = attributes
        transposed.autoPad = "NOTSET"
        transposed.kernel = nil
        transposed.strides = nil
        let upsampled = Array(spread.shape[2...])
        transposed.pads = (0..<2).map { extent[$0] - 1 - geometry.padsBegin[$0] }
            + (0..<2).map { inputShape[2 + $0] - upsampled[$0] + geometry.padsBegin[$0] }
        let flippedValues = derived.value("flipped", from: w.floats) { _ in ConvGradients.flippedTransposedWeights(w, group: group).floats }
        let flipped = Tensor(shape: [w.shape[1] * group, w.shape[0] / group] + w.shape[2...], floats: flippedValues, elementType: w.elementType)
        let result = try Conv(window: transposed, group: group, derived: derived.child("transposed")).convolve([spread, flipped, nil], clamp: .none)
        guard result.shape == inputShape else {
            throw CNNVizError(.shapeMismatch, "Conv input gradient came out as \(result.shape), expected \(inputShape)")
        }
        return result
    }
}
