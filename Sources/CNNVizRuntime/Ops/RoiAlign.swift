import Foundation

/// RoiAlign: for each region of interest (x₁, y₁, x₂, y₂) in rois [R, 4] on image
/// batch_indices[r] of X [N, C, H, W], an output [R, C, output_height, output_width] where each
/// bin averages (mode avg) or takes the maximum (mode max) of sampling_ratio² bilinear samples
/// (sampling_ratio 0: ⌈bin size⌉ per axis). Coordinates are scaled by spatial_scale and, with
/// coordinate_transformation_mode half_pixel (opset 16's default), shifted by −0.5; the legacy
/// output_half_pixel keeps them and makes each region at least 1×1.
/// Samples follow Detectron/torchvision: a sample beyond (−1, size) reads 0, one in (−1, 0)
/// is clamped to 0, and one past the last pixel reads the last pixel.
/// Pitfall: mode max takes, per sample, the largest of the four weighted corner values (not
/// of the interpolated values), as onnxruntime and the ONNX reference do.
///
/// Backward (mode avg): each sample's g/count is spread over its four corners by their weights.
struct RoiAlign: Operator, Differentiable {
    let averages: Bool
    let outputHeight: Int, outputWidth: Int
    let samplingRatio: Int
    let spatialScale: Float
    let halfPixel: Bool

    init(node: Node, opset: Int) throws {
        averages = try node.string("mode", default: "avg") == "avg"
        outputHeight = try node.int("output_height", default: 1)
        outputWidth = try node.int("output_width", default: 1)
        samplingRatio = try node.int("sampling_ratio", default: 0)
        spatialScale = try node.float("spatial_scale", default: 1)
        halfPixel = try node.string("coordinate_transformation_mode", default: opset >= 16 ? "half_pixel" : "output_half_pixel") == "half_pixel"
    }

    /// One sample: four (flat plane index, weight) corners, empty when it reads 0.
    static func corners(y: Double, x: Double, height: Int, width: Int) -> [(Int, Double)] {
        if !y.isFinite || !x.isFinite || y < -1 || y > Double(height) || x < -1 || x > Double(width) { return [] }
        var (y, x) = (Swift.max(y, 0), Swift.max(x, 0))
        var yLow = Int(y), xLow = Int(x), yHigh: Int, xHigh: Int
        if yLow >= height - 1 { yLow = height - 1; yHigh = yLow; y = Double(yLow) } else { yHigh = yLow + 1 }
        if xLow >= width - 1 { xLow = width - 1; xHigh = xLow; x = Double(xLow) } else { xHigh = xLow + 1 }
        let (ly, lx) = (y - Double(yLow), x - Double(xLow))
        let (hy, hx) = (1 - ly, 1 - lx)
        return [(yLow * width + xLow, hy * hx), (yLow * width + xHigh, hy * lx), (yHigh * width + xLow, ly * hx), (yHigh * width + xHigh, ly * lx)]
    }

    /// For every output bin (r, ph, pw), its image index and its samples.
    func bins(_ x: Tensor, _ rois: Tensor, _ batchIndices: Tensor) throws -> [(image: Int, samples: [[(Int, Double)]])] {
        try x.expectRank(4...4, "RoiAlign's X")
        guard rois.rank == 2, rois.shape[1] == 4, batchIndices.count == rois.shape[0] else {
            throw CNNVizError(.shapeMismatch, "RoiAlign needs rois [R, 4] and batch_indices [R], found \(rois.shape) and \(batchIndices.shape)")
        }
        let (height, width) = (x.shape[2], x.shape[3])
        let boxes = rois.floats, images = batchIndices.integers.map { Int($0) }
        let offset = halfPixel ? 0.5 : 0
        var result = [(image: Int, samples: [[(Int, Double)]])]()
        for r in 0..<rois.shape[0] {
            guard images[r] >= 0, images[r] < x.shape[0] else {
                throw CNNVizError(.invalidArgument, "RoiAlign batch index \(images[r]) is outside the batch of \(x.shape[0])")
            }
            let scale = Double(spatialScale)
            let (x1, y1) = (Double(boxes[r * 4]) * scale - offset, Double(boxes[r * 4 + 1]) * scale - offset)
            var (roiWidth, roiHeight) = (Double(boxes[r * 4 + 2]) * scale - offset - x1, Double(boxes[r * 4 + 3]) * scale - offset - y1)
            if !halfPixel { roiWidth = Swift.max(roiWidth, 1); roiHeight = Swift.max(roiHeight, 1) }
            let (binHeight, binWidth) = (roiHeight / Double(outputHeight), roiWidth / Double(outputWidth))
            let adaptive = { (extent: Double, bins: Int) -> Int in
                let samples = (extent / Double(bins)).rounded(.up)
                return samples.isFinite ? Int(Swift.min(Swift.max(samples, 0), 1e6)) : 0
            }
            let gridHeight = samplingRatio > 0 ? samplingRatio : adaptive(roiHeight, outputHeight)
            let gridWidth = samplingRatio > 0 ? samplingRatio : adaptive(roiWidth, outputWidth)
            guard gridHeight * gridWidth <= 1 << 16 else {
                throw CNNVizError(.limitExceeded, "RoiAlign region \(r) needs \(gridHeight)×\(gridWidth) samples per bin; the limit is 65536 (give sampling_ratio)")
            }
            for ph in 0..<outputHeight {
                for pw in 0..<outputWidth {
                    var samples = [[(Int, Double)]]()
                    for iy in 0..<gridHeight {
                        let y = y1 + Double(ph) * binHeight + (Double(iy) + 0.5) * binHeight / Double(gridHeight)
                        for ix in 0..<gridWidth {
                            let xx = x1 + Double(pw) * binWidth + (Double(ix) + 0.5) * binWidth / Double(gridWidth)
                            samples.append(RoiAlign.corners(y: y, x: xx, height: height, width: width))
                        }
                    }
                    result.append((images[r], samples))
                }
            }
        }
        return result
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X"), rois = try inputs.requiredFloat(1, "rois"), batch = try inputs.required(2, "batch_indices")
        let channels = x.shape[1], plane = x.shape[2] * x.shape[3], perRoi = outputHeight * outputWidth
        _ = try Shape.checkedCount([rois.shape[0], channels, outputHeight, outputWidth])
        let plan = try bins(x, rois, batch)
        let values = x.floats
        var out = [Float](repeating: 0, count: rois.shape[0] * channels * perRoi)
        for (b, bin) in plan.enumerated() {
            let (r, position) = (b / perRoi, b % perRoi)
            for c in 0..<channels {
                let base = (bin.image * channels + c) * plane
                var result = averages ? 0.0 : -Double.infinity
                for sample in bin.samples {
                    if averages {
                        for (index, weight) in sample { result += weight * Double(values[base + index]) }
                    } else {
                        let best = sample.map { $0.1 * Double(values[base + $0.0]) }.max() ?? 0
                        result = Swift.max(result, best)
                    }
                }
                out[(r * channels + c) * perRoi + position] = Float(averages ? result / Double(Swift.max(bin.samples.count, 1)) : (bin.samples.isEmpty ? 0 : result))
            }
        }
        return [Tensor(shape: [rois.shape[0], channels, outputHeight, outputWidth], floats: out, elementType: x.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        guard averages else { throw CNNVizError(.unsupportedOperator, "the gradient of RoiAlign is implemented for mode avg only") }
        let x = try context.input(0, "X"), rois = try context.input(1, "rois"), batch = try context.input(2, "batch_indices")
        let g = try context.outputGradient.floats
        let plan = try bins(x, rois, batch)
        let channels = x.shape[1], plane = x.shape[2] * x.shape[3], perRoi = outputHeight * outputWidth
        var dX = [Double](repeating: 0, count: x.count)
        for (b, bin) in plan.enumerated() {
            let (r, position) = (b / perRoi, b % perRoi)
            let share = 1 / Double(Swift.max(bin.samples.count, 1))
            for c in 0..<channels {
                let gradient = Double(g[(r * channels + c) * perRoi + position]) * share
                let base = (bin.image * channels + c) * plane
                for sample in bin.samples { for (index, weight) in sample { dX[base + index] += gradient * weight } }
            }
        }
        return [Tensor(shape: x.shape, floats: dX.map { Float($0) }, elementType: x.elementType), nil, nil]
    }
}
