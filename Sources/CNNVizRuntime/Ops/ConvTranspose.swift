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

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X"), w = try inputs.requiredFloat(1, "W")
        let bias = inputs.optional(2)?.floats
        try x.expectRank(3...5, "ConvTranspose input X")
        let spatial = x.rank - 2
        let (n, c) = (x.shape[0], x.shape[1])
        guard w.rank == x.rank, w.shape[0] == c, c % group == 0 else {
            throw CNNVizError(.shapeMismatch,
                              "ConvTranspose weight must be [C_in=\(c), C_out/group, k…] with group \(group), found \(w.shape)")
        }
        let mg = w.shape[1], m = mg * group, cg = c / group
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
        let inPlane = input.reduce(1, *), outPlane = output.reduce(1, *), kernelSize = kernel.reduce(1, *)
        let inStrides = Shape.strides(input), outStrides = Shape.strides(output), kernelStrides = Shape.strides(kernel)
        let xv = x.floats, wv = w.floats
        var result = [Float](repeating: 0, count: n * m * outPlane)
        result.withUnsafeMutableBufferPointer { y in
            Parallel.forEach(n * group) { job in
                let image = job / group, g = job % group
                for ci in 0..<cg {
                    let channel = g * cg + ci
                    let xPlane = (image * c + channel) * inPlane
                    for position in 0..<inPlane {
                        let value = xv[xPlane + position]
                        if value == 0 { continue }
                        for k in 0..<kernelSize {
                            var offset = 0
                            var inside = true
                            for axis in 0..<spatial {
                                let i = (position / inStrides[axis]) % input[axis]
                                let ki = (k / kernelStrides[axis]) % kernel[axis]
                                let o = i * s[axis] - begin[axis] + ki * d[axis]
                                if o < 0 || o >= output[axis] { inside = false; break }
                                offset += o * outStrides[axis]
                            }
                            if !inside { continue }
                            for mi in 0..<mg {
                                let weight = wv[(channel * mg + mi) * kernelSize + k]
                                y[(image * m + g * mg + mi) * outPlane + offset] += value * weight
                            }
                        }
                    }
                }
            }
            if let bias {
                for plane in 0..<(n * m) {
                    let b = bias[plane % m]
                    for i in 0..<outPlane { y[plane * outPlane + i] += b }
                }
            }
        }
        return [Tensor(shape: [n, m] + output, floats: result, elementType: x.elementType)]
    }
}
