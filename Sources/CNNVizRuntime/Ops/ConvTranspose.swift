/// ConvTranspose: the adjoint of Conv. Each input pixel scatters w[c, m, k] · x[n, c, i] to
/// output position i·s − pad_begin + k·d, for 1-D, 2-D and 3-D inputs.
///
/// Output size: s·(in − 1) + output_padding + (k − 1)·d + 1 − pad_begin − pad_end, unless
/// `output_shape` is given, in which case the total padding follows from it and is split as
/// `auto_pad` says (SAME_UPPER: the odd pixel at the end).
/// Pitfall: the weight layout is [C_in, C_out/group, k…], the transpose of Conv's.
struct ConvTranspose: Operator {
    let window: WindowGeometry.Attributes
    let outputPadding: [Int]?
    let outputShape: [Int]?
    let group: Int

    init(node: Node) throws {
        window = try WindowGeometry.Attributes(node: node)
        outputPadding = try node.ints("output_padding")
        outputShape = try node.ints("output_shape")
        group = try node.int("group", default: 1)
        guard group >= 1 else { throw CNNVizError(.invalidAttribute, "group must be ≥ 1, found \(group)", location: node.location) }
    }

    /// The resolved geometry of one call: sizes, and where each tap of each input pixel lands.
    struct Layout {
        var batch: Int, inChannels: Int, outChannels: Int, group: Int
        var input: [Int], output: [Int], kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int]
        var inPlane: Int { input.reduce(1, *) }
        var outPlane: Int { output.reduce(1, *) }
        var kernelSize: Int { kernel.reduce(1, *) }

        /// The flat output offset that input position `position` reaches through tap `tap`, or nil outside.
        @inline(__always)
        func outputOffset(position: Int, tap: Int, inStrides: [Int], kernelStrides: [Int], outStrides: [Int]) -> Int? {
            var offset = 0
            for axis in 0..<input.count {
                let i = (position / inStrides[axis]) % input[axis]
                let ki = (tap / kernelStrides[axis]) % kernel[axis]
                let o = i * strides[axis] - padsBegin[axis] + ki * dilations[axis]
                if o < 0 || o >= output[axis] { return nil }
                offset += o * outStrides[axis]
            }
            return offset
        }

        /// Calls `body(inputIndex, weightIndex, outputIndex)` for every pixel of input channel
        /// `channel` in every image and every tap that lands inside the output: the flat indices
        /// of x[image, channel, pixel], w[channel, 0, tap] (step kernelSize per output channel of
        /// the group) and y[image, the group's first channel, landing offset] (step outPlane).
        @inline(__always)
        func forEachTap(channel: Int, _ body: (Int, Int, Int) -> Void) {
            let inStrides = Shape.strides(input), outStrides = Shape.strides(output), kernelStrides = Shape.strides(kernel)
            let (mg, cg) = (outChannels / group, inChannels / group)
            let g = channel / cg
            for image in 0..<batch {
                let xPlane = (image * inChannels + channel) * inPlane
                for position in 0..<inPlane {
                    for k in 0..<kernelSize {
                        guard let offset = outputOffset(position: position, tap: k, inStrides: inStrides,
                                                        kernelStrides: kernelStrides, outStrides: outStrides) else { continue }
                        body(xPlane + position, channel * mg * kernelSize + k, (image * outChannels + g * mg) * outPlane + offset)
                    }
                }
            }
        }
    }

    func layout(_ x: Tensor, _ w: Tensor, bias: Tensor?) throws -> Layout {
        try x.expectRank(3...5, "ConvTranspose input X")
        let spatial = x.rank - 2
        let (n, c) = (x.shape[0], x.shape[1])
        guard w.rank == x.rank, w.shape[0] == c, c % group == 0 else {
            throw CNNVizError(.shapeMismatch,
                              "ConvTranspose weight must be [C_in=\(c), C_out/group, k…] with group \(group), found \(w.shape)")
        }
        let mg = w.shape[1], m = mg * group
        if let bias, bias.count != m {
            throw CNNVizError(.shapeMismatch, "ConvTranspose bias must have \(m) values, found \(bias.count)")
        }
        let input = Array(x.shape[2...])
        let (pads, autoPad) = (window.pads, window.autoPad)
        let kernel = window.kernel ?? Array(w.shape[2...])
        let s = window.strides ?? [Int](repeating: 1, count: spatial)
        let d = window.dilations ?? [Int](repeating: 1, count: spatial)
        let op = outputPadding ?? [Int](repeating: 0, count: spatial)
        guard kernel == Array(w.shape[2...]), s.count == spatial, d.count == spatial, op.count == spatial,
              s.allSatisfy({ $0 > 0 }), d.allSatisfy({ $0 > 0 }), op.allSatisfy({ $0 >= 0 }),
              pads.map({ $0.count == 2 * spatial && $0.allSatisfy { $0 >= 0 } }) ?? true,
              outputShape.map({ $0.count >= spatial }) ?? true else {
            throw CNNVizError(.invalidAttribute,
                              "ConvTranspose attributes do not fit \(spatial) spatial dims and weight \(w.shape): kernel_shape \(kernel), strides \(s), dilations \(d), output_padding \(op), pads \(pads ?? []), output_shape \(outputShape ?? [])")
        }
        var begin = pads.map { Array($0[0..<spatial]) } ?? [Int](repeating: 0, count: spatial)
        var output = [Int](repeating: 0, count: spatial)
        for axis in 0..<spatial {
            let full = s[axis] * (input[axis] - 1) + op[axis] + (kernel[axis] - 1) * d[axis] + 1
            if let outputShape {
                let target = outputShape[outputShape.count - spatial + axis]
                let total = full - target
                let half = Int((Double(total) / 2).rounded(.down))  // floor, also for negative totals
                begin[axis] = autoPad == "SAME_UPPER" ? half : total - half
                output[axis] = target
            } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                output[axis] = input[axis] * s[axis]
                let total = full - output[axis]
                begin[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            } else {
                let end = pads.map { $0[spatial + axis] } ?? 0
                output[axis] = full - begin[axis] - end
            }
        }
        guard output.allSatisfy({ $0 > 0 }) else {
            throw CNNVizError(.shapeMismatch, "ConvTranspose output size \(output) is not positive for input \(input)")
        }
        // output_shape comes from the file: the same element-count limit as every other allocation.
        _ = try Shape.checkedCount([n, m] + output)
        return Layout(batch: n, inChannels: c, outChannels: m, group: group, input: input, output: output, kernel: kernel,
                      strides: s, dilations: d, padsBegin: begin)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X"), w = try inputs.requiredFloat(1, "W")
        let bias = inputs.optional(2)
        let layout = try layout(x, w, bias: bias)
        let (m, outPlane, kernelSize) = (layout.outChannels, layout.outPlane, layout.kernelSize)
        let mg = m / group
        let xv = x.floats, wv = w.floats, biasValues = bias?.floats
        var result = [Float](repeating: 0, count: layout.batch * m * outPlane)
        result.withUnsafeMutableBufferPointer { y in
            // One input channel group per job: its output channels are written by it alone.
            Parallel.forEach(group) { g in
                for channel in (g * layout.inChannels / group)..<((g + 1) * layout.inChannels / group) {
                    layout.forEachTap(channel: channel) { xi, wi, yi in
                        let value = xv[xi]
                        for mi in 0..<mg { y[yi + mi * outPlane] += value * wv[wi + mi * kernelSize] }
                    }
                }
            }
            if let biasValues {
                for plane in 0..<(layout.batch * m) {
                    let b = biasValues[plane % m]
                    for i in 0..<outPlane { y[plane * outPlane + i] += b }
                }
            }
        }
        return [Tensor(shape: [layout.batch, m] + layout.output, floats: result, elementType: x.elementType)]
    }
}

extension ConvTranspose: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// The same scatter read backwards: ∂L/∂x[c,i] = Σ_k Σ_m w[c,m,k]·g[m, o(i,k)],
    /// ∂L/∂w[c,m,k] = Σₙ Σᵢ x[n,c,i]·g[n,m,o(i,k)], ∂L/∂b[m] = Σ g[n,m,·].
    /// Each job owns one input channel, so both sums are written without races.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), w = try context.input(1, "W"), g = try context.outputGradient
        let layout = try layout(x, w, bias: context.inputs.optional(2))
        let mg = layout.outChannels / group, (outPlane, kernelSize) = (layout.outPlane, layout.kernelSize)
        guard g.shape == [layout.batch, layout.outChannels] + layout.output else {
            throw CNNVizError(.shapeMismatch, "ConvTranspose output gradient has shape \(g.shape), expected \([layout.batch, layout.outChannels] + layout.output)")
        }
        let xv = x.floats, wv = w.floats, gv = g.floats
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
        dx.withUnsafeMutableBufferPointer { dxp in
            dw.withUnsafeMutableBufferPointer { dwp in
                Parallel.forEach(layout.inChannels) { channel in
                    layout.forEachTap(channel: channel) { xi, wi, yi in
                        let value = xv[xi]
                        var sum: Float = 0
                        for mi in 0..<mg {
                            let gradient = gv[yi + mi * outPlane]
                            sum += wv[wi + mi * kernelSize] * gradient
                            dwp[wi + mi * kernelSize] += value * gradient
                        }
                        dxp[xi] += sum
                    }
                }
            }
        }
        var result = [Tensor?](repeating: nil, count: context.inputs.count)
        if context.needs(0) { result[0] = Tensor(shape: x.shape, floats: dx, elementType: x.elementType) }
        if context.needs(1) { result[1] = Tensor(shape: w.shape, floats: dw, elementType: w.elementType) }
        if context.needs(2), let bias = context.inputs.optional(2) {
            var reduced = [1, layout.outChannels] + layout.output.map { _ in 1 }
            reduced[1] = layout.outChannels
            result[2] = g.sumReduced(to: reduced).reshaped(bias.shape)
        }
        return result
    }
}
