/// MaxPool and AveragePool over 1-D, 2-D and 3-D windows.
///
/// MaxPool: y = max over the window's in-image pixels; the optional Indices output holds the
/// arg-max as a flat index into X (row-major, or column-major over H,W with storage_order 1).
/// AveragePool: y = Σ window / count, where count is the number of in-image pixels, or with
/// count_include_pad the pixels inside the padded extent [−pad_begin, in + pad_end).
/// Pitfall: with ceil_mode a window can reach past the end padding; those positions count
/// in neither case.
struct Pool: Operator {
    enum Kind { case max, average }
    let kind: Kind
    let window: WindowGeometry.Attributes
    let countIncludePad: Bool
    let columnMajorIndices: Bool
    let wantsIndices: Bool

    init(node: Node, kind: Kind, opset: Int) throws {
        self.kind = kind
        window = try WindowGeometry.Attributes(node: node)
        guard window.kernel != nil else {
            throw CNNVizError(.invalidAttribute, "kernel_shape is required", location: node.location)
        }
        countIncludePad = try node.int("count_include_pad", default: 0) != 0
        columnMajorIndices = try node.int("storage_order", default: 0) == 1
        wantsIndices = kind == .max && node.outputs.count > 1 && !node.outputs[1].isEmpty
    }

    /// For each output index along one axis: the first in-image input index of its window,
    /// how many in-image taps follow (step = dilation), and how many window positions lie
    /// inside the padded extent.
    struct AxisWindows {
        var first: [Int] = []
        var counts: [Int] = []
        var paddedCounts: [Int] = []
        var dilation: Int

        init(axis: Int, geometry g: WindowGeometry) {
            let size = g.input[axis]
            dilation = g.dilations[axis]
            for o in 0..<g.output[axis] {
                let start = o * g.strides[axis] - g.padsBegin[axis]
                var firstTap = -1, count = 0, padded = 0
                for k in 0..<g.kernel[axis] {
                    let i = start + k * dilation
                    if i >= 0 && i < size {
                        if firstTap < 0 { firstTap = i }
                        count += 1
                    }
                    if i < size + g.padsEnd[axis] { padded += 1 }
                }
                first.append(max(firstTap, 0))
                counts.append(count)
                paddedCounts.append(padded)
            }
        }

        func taps(_ o: Int) -> StrideTo<Int> { stride(from: first[o], to: first[o] + counts[o] * dilation, by: dilation) }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        try x.expectRank(3...5, "pool input X")
        let spatial = Array(x.shape[2...])
        let geometry = try WindowGeometry(input: spatial, kernel: window.kernel!, attributes: window)
        let axes = (0..<spatial.count).map { AxisWindows(axis: $0, geometry: geometry) }
        let planes = x.shape[0] * x.shape[1]
        let inPlane = spatial.reduce(1, *), outPlane = geometry.output.reduce(1, *)
        let outShape = Array(x.shape[0..<2]) + geometry.output
        if spatial.count == 2 && kind == .max && !wantsIndices && x.isFloatingPoint {
            // The common CNN case: separable max pooling straight into uninitialised output.
            return [x.withFloats { xp in
                Tensor.filled(shape: outShape, elementType: x.elementType) { yp in
                    Parallel.forChunks(planes, minimumPerWorker: max(1, 4096 / max(outPlane, 1))) { range in
                        Pool.max2D(xp.baseAddress!, planes: range, geometry: geometry, output: yp.baseAddress!)
                    }
                }
            }]
        }
        let inStrides = Shape.strides(spatial)
        var indices = [Int64](repeating: 0, count: wantsIndices ? planes * outPlane : 0)
        let values = x.floats
        var result = [Float](repeating: 0, count: planes * outPlane)
        values.withUnsafeBufferPointer { xp in
            result.withUnsafeMutableBufferPointer { yp in
                indices.withUnsafeMutableBufferPointer { ip in
                    Parallel.forChunks(planes, minimumPerWorker: max(1, 8192 / max(outPlane, 1))) { range in
                        var position = [Int](repeating: 0, count: spatial.count)
                        for plane in range {
                            let input = xp.baseAddress! + plane * inPlane
                            if spatial.count == 2 {
                                pool2D(input, axes: axes, width: spatial[1], plane: plane, inPlane: inPlane,
                                       output: yp.baseAddress! + plane * outPlane,
                                       indices: wantsIndices ? ip.baseAddress! + plane * outPlane : nil)
                                continue
                            }
                            for o in 0..<outPlane {
                                Pool.unflatten(o, shape: geometry.output, into: &position)
                                let (value, argmax) = reduceWindow(input, position: position, axes: axes, strides: inStrides)
                                yp[plane * outPlane + o] = value
                                if wantsIndices {
                                    ip[plane * outPlane + o] = Int64(plane * inPlane + flatIndex(argmax, spatial: spatial))
                                }
                            }
                        }
                    }
                }
            }
        }
        var outputs = [x.isFloatingPoint
            ? Tensor(shape: outShape, floats: result, elementType: x.elementType)
            : Tensor(shape: outShape, integers: result.map(Shape.saturatingInteger), elementType: x.elementType)]
        if wantsIndices { outputs.append(Tensor(shape: outShape, integers: indices)) }
        return outputs
    }

    /// 2-D max pooling without indices, as CNNs use it. Max is separable: each output row
    /// first takes the max over its window's input rows (one vectorised pass per row), into a
    /// buffer padded with −∞ and split into `sw` phases; each horizontal tap is then one
    /// contiguous, vectorised max over the output row.
    static func max2D(_ x: UnsafePointer<Float>, planes: Range<Int>, geometry g: WindowGeometry,
                      output y: UnsafeMutablePointer<Float>) {
        let (h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw) = g.planar
        let phaseLength = (max(pw + w, (ow - 1) * sw + (kw - 1) * dw + 1) + sw - 1) / sw + 1
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: phaseLength * sw + 32)
        let phases = sw == 1 ? padded : UnsafeMutablePointer<Float>.allocate(capacity: phaseLength * sw + 16)
        defer {
            if phases != padded { phases.deallocate() }
            padded.deallocate()
        }
        padded.initialize(repeating: -.infinity, count: phaseLength * sw + 32)
        let row = padded + pw
        for plane in planes {
            let input = x + plane * h * w
            let output = y + plane * oh * ow
            for oy in 0..<oh {
                row.update(repeating: -.infinity, count: w)
                for ky in 0..<kh {
                    let iy = oy &* sh &- ph &+ ky &* dh
                    if iy < 0 || iy >= h { continue }
                    let source = input + iy &* w
                    for x in 0..<w { row[x] = Swift.max(row[x], source[x]) }
                }
                let out = output + oy * ow
                if sw == 2 {
                    // Even and odd columns 8 at a time (the buffer has 32 spare floats past the phases).
                    let even = phases, odd = phases + phaseLength
                    var i = 0
                    while i + 8 <= phaseLength - 1 {
                        let pair = UnsafePointer(padded).simd16(2 * i)
                        even.store(pair.evenHalf, at: i)
                        odd.store(pair.oddHalf, at: i)
                        i += 8
                    }
                    while i < phaseLength - 1 {
                        even[i] = padded[2 * i]
                        odd[i] = padded[2 * i + 1]
                        i += 1
                    }
                    even[phaseLength - 1] = -.infinity
                    odd[phaseLength - 1] = -.infinity
                } else if sw > 2 {
                    for p in 0..<sw {
                        let target = phases + p * phaseLength
                        for i in 0..<(phaseLength - 1) { target[i] = padded[i &* sw &+ p] }
                        target[phaseLength - 1] = -.infinity
                    }
                }
                out.update(repeating: -.infinity, count: ow)
                for kx in 0..<kw {
                    let offset = kx * dw
                    let source = phases + (offset % sw) * phaseLength + offset / sw
                    for ox in 0..<ow { out[ox] = Swift.max(out[ox], source[ox]) }
                }
            }
        }
    }

    /// The 2-D case with the window loops written out over raw pointers (average pooling and
    /// max pooling with indices).
    @inline(__always)
    func pool2D(_ input: UnsafePointer<Float>, axes: [AxisWindows], width: Int, plane: Int, inPlane: Int,
                output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int64>?) {
        let rows = axes[0], columns = axes[1]
        let outHeight = rows.counts.count, outWidth = columns.counts.count
        let (dy, dx) = (rows.dilation, columns.dilation)
        rows.first.withUnsafeBufferPointer { rowFirst in
        rows.counts.withUnsafeBufferPointer { rowCount in
        columns.first.withUnsafeBufferPointer { columnFirst in
        columns.counts.withUnsafeBufferPointer { columnCount in
            for oy in 0..<outHeight {
                let y0 = rowFirst[oy], ny = rowCount[oy]
                for ox in 0..<outWidth {
                    let x0 = columnFirst[ox], nx = columnCount[ox]
                    let o = oy * outWidth + ox
                    if kind == .max {
                        var best = -Float.infinity, bestOffset = -1
                        for ky in 0..<ny {
                            let row = input + (y0 + ky * dy) * width + x0
                            for kx in 0..<nx where row[kx * dx] > best || bestOffset < 0 {
                                best = row[kx * dx]
                                bestOffset = (y0 + ky * dy) * width + x0 + kx * dx
                            }
                        }
                        output[o] = best
                        if let indices {
                            let height = inPlane / width
                            let flat = columnMajorIndices && bestOffset >= 0
                                ? bestOffset / width + (bestOffset % width) * height : bestOffset
                            indices[o] = Int64(plane * inPlane + flat)
                        }
                    } else {
                        var sum: Float = 0
                        for ky in 0..<ny {
                            let row = input + (y0 + ky * dy) * width + x0
                            for kx in 0..<nx { sum += row[kx * dx] }
                        }
                        let count = countIncludePad ? rows.paddedCounts[oy] * columns.paddedCounts[ox] : ny * nx
                        output[o] = count > 0 ? sum / Float(count) : 0
                    }
                }
            }
        }
        }
        }
        }
    }

    /// The max or average of one window, and for max the arg-max's offset within the plane.
    @inline(__always)
    func reduceWindow(_ input: UnsafePointer<Float>, position: [Int], axes: [AxisWindows], strides: [Int]) -> (Float, Int) {
        var best = -Float.infinity, bestOffset = -1, sum: Float = 0, count = 0
        Pool.forEachTap(position: position, axes: axes, strides: strides) { offset in
            let v = input[offset]
            if kind == .max {
                if v > best || bestOffset < 0 { best = v; bestOffset = offset }
            } else {
                sum += v
                count += 1
            }
        }
        if kind == .max { return (best, bestOffset) }
        if countIncludePad {
            count = (0..<axes.count).reduce(1) { $0 * axes[$1].paddedCounts[position[$1]] }
        }
        return (count > 0 ? sum / Float(count) : 0, 0)
    }

    /// Calls `body` with the plane offset of every in-image tap of the window at `position`,
    /// in row-major window order.
    static func forEachTap(position: [Int], axes: [AxisWindows], strides: [Int], _ body: (Int) -> Void) {
        func visit(_ axis: Int, _ offset: Int) {
            if axis == axes.count { return body(offset) }
            for i in axes[axis].taps(position[axis]) { visit(axis + 1, offset + i * strides[axis]) }
        }
        visit(0, 0)
    }

    /// The multi-index of flat index `index` in a row-major array of `shape`.
    static func unflatten(_ index: Int, shape: [Int], into position: inout [Int]) {
        var rest = index
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            position[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
    }

    /// A row-major plane offset re-expressed in the requested index order.
    func flatIndex(_ offset: Int, spatial: [Int]) -> Int {
        guard columnMajorIndices, spatial.count == 2, offset >= 0 else { return offset }
        let h = offset / spatial[1], w = offset % spatial[1]
        return h + w * spatial[0]
    }
}

/// GlobalAveragePool / GlobalMaxPool: one value per (n, c), over all spatial positions.
struct GlobalPool: Operator {
    let kind: Pool.Kind

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X")
        try x.expectRank(3...8, "global pool input X")
        let planes = x.shape[0] * x.shape[1]
        let plane = x.count / max(planes, 1)
        let outShape = Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.rank - 2)
        return [x.withFloats { xp in
            Tensor.filled(shape: outShape, elementType: x.elementType) { yp in
                Parallel.forChunks(planes, minimumPerWorker: max(1, 16384 / max(plane, 1))) { range in
                    for p in range {
                        let values = UnsafeBufferPointer(rebasing: xp[p * plane..<(p + 1) * plane])
                        if kind == .max {
                            yp[p] = values.max() ?? 0
                        } else {
                            var sum: Float = 0
                            for v in values { sum += v }
                            yp[p] = sum / Float(plane)
                        }
                    }
                }
            }
        }]
    }
}

extension Pool: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// MaxPool: each output's gradient goes to its window's arg-max, the first maximum in
    /// row-major window order when several taps tie (deterministic; PyTorch also keeps one).
    /// AveragePool: g/count to every tap that the forward pass averaged (the same count,
    /// with or without padding). Pitfall: overlapping windows add into the same pixel.
    /// With a rectified input (`MasksRectifiedInputs`), max-pool sends g only where the
    /// window's maximum is > 0, which is the ReLU's [y > 0] at the arg-max.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), g = try context.outputGradient
        let spatial = Array(x.shape[2...])
        let geometry = try WindowGeometry(input: spatial, kernel: window.kernel!, attributes: window)
        let axes = (0..<spatial.count).map { AxisWindows(axis: $0, geometry: geometry) }
        let planes = x.shape[0] * x.shape[1]
        let inPlane = spatial.reduce(1, *), outPlane = geometry.output.reduce(1, *)
        guard g.count == planes * outPlane else {
            throw CNNVizError(.shapeMismatch, "pool output gradient has shape \(g.shape), expected \(Array(x.shape[0..<2]) + geometry.output)")
        }
        let inStrides = Shape.strides(spatial)
        let rectified = context.isRectified(0)
        // Each plane is zeroed just before its gradients are added, while it is in this core's
        // cache (a memset of the whole batch first would evict it; zeroing per plane took
        // SqueezeNet's max-pool backward at batch 16 from 45 ms to 26).
        let result = x.withFloats { xp in
            g.withFloats { gp in
                Tensor.filled(shape: x.shape, elementType: x.elementType) { dp in
                    Parallel.forChunks(planes, minimumPerWorker: max(1, 8192 / max(outPlane, 1))) { range in
                        var position = [Int](repeating: 0, count: spatial.count)
                        for plane in range {
                            let input = xp.baseAddress! + plane * inPlane, gradient = gp.baseAddress! + plane * outPlane
                            let target = dp.baseAddress! + plane * inPlane
                            target.initialize(repeating: 0, count: inPlane)
                            if spatial.count == 2 && kind == .max {
                                Pool.maxBackward2D(input, gradient, into: target, rows: axes[0], columns: axes[1], width: spatial[1],
                                                   rectified: rectified)
                                continue
                            }
                            for o in 0..<outPlane {
                                Pool.unflatten(o, shape: geometry.output, into: &position)
                                if kind == .max {
                                    let (_, argmax) = reduceWindow(input, position: position, axes: axes, strides: inStrides)
                                    if argmax >= 0 && (!rectified || input[argmax] > 0) { target[argmax] += gradient[o] }
                                } else {
                                    distribute(gradient[o], into: target, position: position, axes: axes, strides: inStrides)
                                }
                            }
                        }
                    }
                }
            }
        }
        return [result]
    }

    /// 2-D max-pool backward for one plane: each output's gradient to the first maximum of its
    /// window in row-major order, scanning only the in-image taps. The scan keeps the best
    /// value and offset with selects rather than branches (which mispredict on real
    /// activations); a NaN tap is never taken, as in the forward pass.
    static func maxBackward2D(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
                              rows: AxisWindows, columns: AxisWindows, width: Int, rectified: Bool) {
        let (dy, dx) = (rows.dilation, columns.dilation)
        @inline(__always) func send(_ gradient: Float, to offset: Int) {
            target[offset] += rectified && !(x[offset] > 0) ? 0 : gradient
        }
        rows.first.withUnsafeBufferPointer { rowFirst in
        rows.counts.withUnsafeBufferPointer { rowCounts in
        columns.first.withUnsafeBufferPointer { columnFirst in
        columns.counts.withUnsafeBufferPointer { columnCounts in
            let ow = columnFirst.count
            for oy in 0..<rowFirst.count {
                let (y0, ny) = (rowFirst[oy], rowCounts[oy])
                var ox = 0
                if ny == 3 && dy == 1 && dx == 1 && (y0 + 3) * width <= Int(Int32.max) {
                    // Eight whole stride-2 windows at a time while they lie inside the row (their
                    // offsets in the plane, as Int32 lanes, below 2³¹).
                    while ox + 8 <= ow && columnCounts[ox] == 3 && columnCounts[ox + 7] == 3
                            && columnFirst[ox + 7] - columnFirst[ox] == 14 && columnFirst[ox] + 18 <= width {
                        let origin = y0 * width + columnFirst[ox]
                        let offsets = firstMaxima3x3Stride2(x, at: origin, width: width)
                        for lane in 0..<8 { send(g[oy * ow + ox + lane], to: Int(offsets[lane])) }
                        ox += 8
                    }
                }
                for ox in ox..<ow {
                    let (x0, nx) = (columnFirst[ox], columnCounts[ox])
                    guard ny > 0 && nx > 0 else { continue }
                    if ny == 3 && nx == 3 && dy == 1 && dx == 1 {
                        send(g[oy * ow + ox], to: firstMaximum3x3(x, at: y0 * width + x0, width: width))
                        continue
                    }
                    var best = -Float.infinity, bestOffset = y0 * width + x0
                    for ky in 0..<ny {
                        let rowOffset = (y0 + ky * dy) * width + x0
                        for kx in 0..<nx {
                            let offset = rowOffset + kx * dx, value = x[offset]
                            let better = value > best
                            best = better ? value : best
                            bestOffset = better ? offset : bestOffset
                        }
                    }
                    send(g[oy * ow + ox], to: bestOffset)
                }
            }
        }
        }
        }
        }
    }

    /// The offset of the first maximum of the whole 3×3 window at `origin` (the common
    /// interior case of a 3×3 max pool), unrolled: the same selects as the general scan.
    @inline(__always)
    static func firstMaximum3x3(_ x: UnsafePointer<Float>, at origin: Int, width: Int) -> Int {
        var best = -Float.infinity, bestOffset = origin
        @inline(__always) func visit(_ offset: Int) {
            let value = x[offset], better = value > best
            best = better ? value : best
            bestOffset = better ? offset : bestOffset
        }
        let (row1, row2) = (origin + width, origin + 2 * width)
        visit(origin); visit(origin + 1); visit(origin + 2)
        visit(row1); visit(row1 + 1); visit(row1 + 2)
        visit(row2); visit(row2 + 1); visit(row2 + 2)
        return bestOffset
    }

    /// `firstMaximum3x3` for the eight windows at origin, origin + 2, …, origin + 14 at once:
    /// each row's 18 columns as two 16-wide loads, split into the three taps' even and odd
    /// columns, then the same strict-greater selects lane by lane, in the same row-major order.
    /// Pitfall: reads 18 columns from the origin, so the caller keeps them inside the row.
    @inline(__always)
    static func firstMaxima3x3Stride2(_ x: UnsafePointer<Float>, at origin: Int, width: Int) -> SIMD8<Int32> {
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        var best = SIMD8<Float>(repeating: -.infinity), bestOffset = lanes &+ Int32(origin)
        @inline(__always) func visit(_ values: SIMD8<Float>, _ offset: Int) {
            let better = values .> best
            best.replace(with: values, where: better)
            bestOffset.replace(with: lanes &+ Int32(offset), where: better)
        }
        for row in 0..<3 {
            let start = origin + row * width
            let (left, right) = ((x + start).simd16(), (x + start).simd16(2))
            visit(left.evenHalf, start)
            visit(left.oddHalf, start + 1)
            visit(right.evenHalf, start + 2)
        }
        return bestOffset
    }

    /// Adds g/count to every in-image tap of one average-pool window.
    func distribute(_ g: Float, into target: UnsafeMutablePointer<Float>, position: [Int], axes: [AxisWindows], strides: [Int]) {
        var count = (0..<axes.count).reduce(1) { $0 * axes[$1].counts[position[$1]] }
        if countIncludePad { count = (0..<axes.count).reduce(1) { $0 * axes[$1].paddedCounts[position[$1]] } }
        guard count > 0 else { return }
        let share = g / Float(count)
        Pool.forEachTap(position: position, axes: axes, strides: strides) { target[$0] += share }
    }
}

extension GlobalPool: Differentiable {
    var backwardReads: BackwardReads { kind == .max ? .inputsAndOutputs : .inputs }

    /// Average: g/(H·W) to every pixel. Max: g to the first pixel equal to the maximum.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), g = try context.outputGradient.floats
        let plane = x.count / max(g.count, 1)
        let maxima = kind == .max ? try context.output(0).floats : []
        let result = x.withFloats { xp in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { dp in
                Parallel.forChunks(g.count, minimumPerWorker: max(1, 16384 / max(plane, 1))) { range in
                    for p in range {
                        let base = p * plane
                        if kind == .average {
                            let share = g[p] / Float(plane)
                            for i in 0..<plane { dp[base + i] = share }
                        } else {
                            var found = false
                            for i in 0..<plane {
                                let hit = !found && xp[base + i] == maxima[p]
                                dp[base + i] = hit ? g[p] : 0
                                found = found || hit
                            }
                        }
                    }
                }
            }
        }
        return [result]
    }
}
