import Foundation

/// Resize (opset 10+) and Upsample (opset 7–9): separable interpolation, one axis at a time,
/// in nearest, linear and cubic modes, with every coordinate-transformation mode, antialiasing,
/// exclude_outside, tf_crop_and_resize extrapolation and keep_aspect_ratio_policy.
///
/// For output index x along an axis, the source coordinate x′ is (scale = out/in):
/// half_pixel (x + ½)/scale − ½ · pytorch_half_pixel the same, or 0 when out = 1 ·
/// align_corners x·(in − 1)/(scale·in − 1) · asymmetric x/scale ·
/// half_pixel_symmetric offset + (x + ½)/scale − ½ with offset = in/2·(1 − ⌊scale·in⌋/(scale·in)) ·
/// tf_crop_and_resize roi_start·(in − 1) + x·(roi_end − roi_start)·(in − 1)/(scale·in − 1).
/// Taps are taken around ⌊x′⌋ as the ONNX reference does (an integral x′ counts as ratio 1 from
/// x′ − 1) and clamped to the edge. Pitfall: align_corners divides by scale·in − 1, which is
/// fractional when the scale does not divide evenly — onnxruntime uses out − 1 there instead.
struct Resize: Operator, Differentiable {
    enum Mode: String { case nearest, linear, cubic }
    let mode: Mode
    let coordinateMode: String
    let nearestMode: String
    let cubicA: Double
    let excludeOutside: Bool
    let extrapolationValue: Float
    let antialias: Bool
    let axes: [Int]?
    let aspectPolicy: String
    /// Upsample and Resize-10 take scales as attribute or input 1 and have no roi input.
    let scalesInput: Int
    let attributeScales: [Float]?

    init(node: Node, opset: Int) throws {
        let modeName = try node.string("mode", default: "nearest")
        guard let mode = Mode(rawValue: modeName) else {
            throw CNNVizError(.invalidAttribute, "Resize mode must be nearest, linear or cubic, found '\(modeName)'", location: node.location)
        }
        self.mode = mode
        coordinateMode = opset < 11 ? "asymmetric" : try node.string("coordinate_transformation_mode", default: "half_pixel")
        let known = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
        guard known.contains(coordinateMode) else {
            throw CNNVizError(.invalidAttribute, "unknown coordinate_transformation_mode '\(coordinateMode)'; expected one of \(known.joined(separator: ", "))",
                              location: node.location)
        }
        nearestMode = opset < 11 ? "floor" : try node.string("nearest_mode", default: "round_prefer_floor")
        cubicA = Double(try node.float("cubic_coeff_a", default: -0.75))
        excludeOutside = try node.int("exclude_outside", default: 0) != 0
        extrapolationValue = try node.float("extrapolation_value", default: 0)
        antialias = try node.int("antialias", default: 0) != 0
        axes = try node.ints("axes")
        aspectPolicy = try node.string("keep_aspect_ratio_policy", default: "stretch")
        scalesInput = opset < 11 ? 1 : 2
        attributeScales = nil
    }

    init(upsampleNode node: Node, opset: Int) throws {
        let modeName = try node.string("mode", default: "nearest")
        mode = modeName == "nearest" ? .nearest : .linear
        guard ["nearest", "linear", "bilinear"].contains(modeName) else {
            throw CNNVizError(.invalidAttribute, "Upsample mode must be nearest or linear, found '\(modeName)'", location: node.location)
        }
        coordinateMode = "asymmetric"
        nearestMode = "floor"
        cubicA = -0.75
        excludeOutside = false
        extrapolationValue = 0
        antialias = false
        axes = nil
        aspectPolicy = "stretch"
        scalesInput = 1
        attributeScales = try node.floats("scales")
    }

    /// One separable pass: `axis` resampled to `outSize`.
    struct Pass {
        var axis: Int, scale: Double, outSize: Int, roi: [Double]?
    }

    /// The passes that turn x into the output, skipping axes left unchanged.
    func passes(_ x: Tensor, _ inputs: [Tensor?]) throws -> [Pass] {
        let rank = x.rank
        let axes = try (self.axes ?? Array(0..<rank)).map { try Shape.normalizedAxis($0, rank: rank) }
        var scales = [Double](repeating: 1, count: rank)
        var sizes = x.shape
        var roi: [Double]? = nil
        if scalesInput == 2, let r = inputs.optional(1), r.count == 2 * axes.count {
            roi = r.floats.map(Double.init)
            guard roi!.allSatisfy(\.isFinite) else { throw CNNVizError(.invalidArgument, "Resize roi \(roi!) must be finite") }
        }
        let sizesTensor = scalesInput == 2 ? inputs.optional(3).flatMap { $0.count > 0 ? $0 : nil } : nil
        if let sizesTensor {
            let requested = sizesTensor.integers.map { Int($0) }
            guard requested.count == axes.count, requested.allSatisfy({ $0 >= 0 }),
                  zip(axes, requested).allSatisfy({ x.shape[$0.0] > 0 || $0.1 == 0 }) else {
                throw CNNVizError(.shapeMismatch, "Resize sizes \(requested) must be one non-negative size per axis \(axes) of \(x.shape)")
            }
            for (i, axis) in axes.enumerated() { scales[axis] = Double(requested[i]) / Double(x.shape[axis]) }
            if aspectPolicy != "stretch" {
                let chosen = axes.map { scales[$0] }
                let scale = aspectPolicy == "not_larger" ? chosen.min()! : chosen.max()!
                for axis in axes {
                    scales[axis] = scale
                    sizes[axis] = Int(scale * Double(x.shape[axis]) + 0.5)
                }
            } else {
                for (i, axis) in axes.enumerated() { sizes[axis] = requested[i] }
            }
        } else {
            guard let given = attributeScales ?? inputs.optional(scalesInput).map({ $0.floats }), !given.isEmpty else {
                throw CNNVizError(.invalidArgument, "Resize needs either scales or sizes")
            }
            guard given.count == axes.count else {
                throw CNNVizError(.shapeMismatch, "Resize scales \(given) must have one entry per axis \(axes)")
            }
            for (i, axis) in axes.enumerated() {
                guard given[i] > 0, given[i].isFinite, Double(given[i]) * Double(x.shape[axis]) <= Double(Shape.maximumCount) else {
                    throw CNNVizError(.invalidArgument, "Resize scale \(given[i]) must be positive, finite and of sane size for axis \(axis) of \(x.shape)")
                }
                scales[axis] = Double(given[i])
                sizes[axis] = Int(Double(given[i]) * Double(x.shape[axis]))
            }
        }
        _ = try Shape.checkedCount(sizes)
        return axes.enumerated().compactMap { i, axis in
            let axisRoi = roi.map { [$0[i], $0[i + axes.count]] }
            let identity = abs(scales[axis] - 1) < 1e-12 && sizes[axis] == x.shape[axis]
                && (axisRoi == nil || (axisRoi![0] == 0 && axisRoi![1] == 1))
            return identity ? nil : Pass(axis: axis, scale: scales[axis], outSize: sizes[axis], roi: axisRoi)
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        var result = x.isFloatingPoint ? x : Tensor(shape: x.shape, floats: x.floats)
        for pass in try passes(x, inputs) {
            result = resample(result, axis: pass.axis, scale: pass.scale, outSize: pass.outSize, roi: pass.roi)
        }
        if !x.isFloatingPoint {
            return [Tensor(shape: result.shape, integers: result.floats.map { x.elementType.wrapped(Shape.saturatingInteger($0.rounded())) },
                           elementType: x.elementType)]
        }
        return [result]
    }

    /// Interpolation taps for one output index: source indices (clamped) and weights, or nil
    /// when tf_crop_and_resize extrapolates.
    func taps(for index: Int, inSize: Int, scale: Double, outSize: Int, roi: [Double]?) -> [(Int, Double)]? {
        let outWidth = scale * Double(inSize)
        let x = Double(index)
        let source: Double
        switch coordinateMode {
        case "align_corners": source = outWidth == 1 ? 0 : x * Double(inSize - 1) / (outWidth - 1)
        case "asymmetric": source = x / scale
        case "pytorch_half_pixel": source = outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5
        case "half_pixel_symmetric":
            let offset = Double(inSize) / 2 * (1 - Double(outSize) / outWidth)
            source = offset + (x + 0.5) / scale - 0.5
        case "tf_crop_and_resize":
            let (start, end) = (roi?[0] ?? 0, roi?[1] ?? 1)
            let raw = outWidth == 1 ? (end - start) * Double(inSize - 1) / 2 : x * (end - start) * Double(inSize - 1) / (outWidth - 1)
            source = raw + start * Double(inSize - 1)
            if source < 0 || source > Double(inSize - 1) { return nil }
        default: source = (x + 0.5) / scale - 0.5
        }
        var base = Foundation.floor(source)
        var ratio = source - base
        if ratio == 0 { base -= 1; ratio = 1 }
        var weights: [(Int, Double)]
        switch (mode, antialias && scale < 1) {
        case (.nearest, _):
            let up: Bool
            if ratio == 1 { up = true } else {
                switch nearestMode {
                case "round_prefer_ceil": up = ratio >= 0.5
                case "floor": up = false
                case "ceil": up = true
                default: up = ratio > 0.5
                }
            }
            weights = [(Int(base) + (up ? 1 : 0), 1)]
        case (.linear, false): weights = [(Int(base), 1 - ratio), (Int(base) + 1, ratio)]
        case (.cubic, false):
            weights = (-1...2).map { i in (Int(base) + i, Resize.cubic(Double(i) - ratio, a: cubicA)) }
        case (.linear, true):
            let start = Int(Foundation.floor(-1 / scale)) + 1
            weights = (start..<(2 - start)).map { i in (Int(base) + i, max(0, 1 - abs((Double(i) - ratio) * scale))) }
        case (.cubic, true):
            let start = Int(Foundation.floor(-2 / scale)) + 1
            weights = (start..<(2 - start)).map { i in (Int(base) + i, Resize.cubic((Double(i) - ratio) * scale, a: cubicA)) }
        }
        if excludeOutside {
            weights = weights.map { ($0.0, $0.0 < 0 || $0.0 >= inSize ? 0 : $0.1) }
        }
        let total = weights.reduce(0) { $0 + $1.1 }
        if (antialias && scale < 1 && mode != .nearest) || excludeOutside, total != 0 {
            weights = weights.map { ($0.0, $0.1 / total) }
        }
        return weights.map { (min(max($0.0, 0), inSize - 1), $0.1) }
    }

    /// Keys' cubic convolution kernel with parameter a (−0.75 as in OpenCV/ONNX, −0.5 classic).
    static func cubic(_ t: Double, a: Double) -> Double {
        let x = abs(t)
        if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return 0
    }

    func resample(_ x: Tensor, axis: Int, scale: Double, outSize: Int, roi: [Double]?) -> Tensor {
        let inSize = x.shape[axis]
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        let table = (0..<outSize).map { taps(for: $0, inSize: inSize, scale: scale, outSize: outSize, roi: roi) }
        var shape = x.shape
        shape[axis] = outSize
        let fill = extrapolationValue
        // Nearest (one tap of weight 1 per output index): a gather, with no multiply-adds.
        let nearestSources = table.map { taps -> Int? in taps?.count == 1 && taps![0].1 == 1 ? taps![0].0 : nil }
        let gather = nearestSources.allSatisfy { $0 != nil } ? nearestSources.map { $0! } : nil
        return x.withFloats { xp in
            Tensor.filled(shape: shape, elementType: x.elementType) { yp in
                Parallel.forChunks(outer, minimumPerWorker: max(1, 16384 / max(inner * outSize, 1))) { range in
                    for o in range {
                        let input = xp.baseAddress! + o * inSize * inner, output = yp.baseAddress! + o * outSize * inner
                        if let gather, inner == 1 {
                            for j in 0..<outSize { output[j] = input[gather[j]] }
                            continue
                        }
                        for (index, taps) in table.enumerated() {
                            let out = output + index * inner
                            if let gather {
                                out.update(from: input + gather[index] * inner, count: inner)
                                continue
                            }
                            guard let taps else {
                                out.update(repeating: fill, count: inner)
                                continue
                            }
                            out.update(repeating: 0, count: inner)
                            for (source, weight) in taps where weight != 0 {
                                let w = Float(weight)
                                let row = input + source * inner
                                for i in 0..<inner { out[i] += w * row[i] }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Resize {
    var backwardReads: BackwardReads { .inputs }

    /// Each pass is linear, y[o, j, i] = Σ_taps w·x[o, source, i], so its adjoint adds
    /// w·g[o, j, i] into x[o, source, i]; the passes are undone in reverse order.
    /// Extrapolated positions (tf_crop_and_resize) pass no gradient.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X")
        var gradient = try context.outputGradient
        let passes = try passes(x, context.inputs)
        var shapes = [x.shape]
        for pass in passes {
            var shape = shapes.last!
            shape[pass.axis] = pass.outSize
            shapes.append(shape)
        }
        for (index, pass) in passes.enumerated().reversed() {
            gradient = resampleAdjoint(gradient, axis: pass.axis, inSize: shapes[index][pass.axis], pass: pass)
        }
        return [gradient.reshaped(x.shape)]
    }

    func resampleAdjoint(_ g: Tensor, axis: Int, inSize: Int, pass: Pass) -> Tensor {
        let outer = g.shape[..<axis].reduce(1, *), inner = g.shape[(axis + 1)...].reduce(1, *)
        let table = (0..<pass.outSize).map { taps(for: $0, inSize: inSize, scale: pass.scale, outSize: pass.outSize, roi: pass.roi) }
        var shape = g.shape
        shape[axis] = inSize
        var result = [Float](repeating: 0, count: shape.reduce(1, *))
        g.withFloats { gp in
            result.withUnsafeMutableBufferPointer { xp in
                Parallel.forChunks(outer, minimumPerWorker: max(1, 16384 / max(inner * pass.outSize, 1))) { range in
                    for o in range {
                        for (index, taps) in table.enumerated() {
                            guard let taps else { continue }
                            let from = gp.baseAddress! + (o * pass.outSize + index) * inner
                            for (source, weight) in taps where weight != 0 {
                                let w = Float(weight)
                                let row = xp.baseAddress! + (o * inSize + source) * inner
                                for i in 0..<inner { row[i] += w * from[i] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, floats: result, elementType: g.elementType)
    }
}
