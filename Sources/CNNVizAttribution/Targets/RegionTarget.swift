import CNNVizRuntime

/// One class channel of a dense output summed over a mask, s = Σ_hw y[n, c, h, w]·m[h, w]
/// (pytorch-grad-cam's `SemanticSegmentationTarget(category, mask)`).
///
/// The mask is given at the input's resolution and resized to the output's H × W with
/// nearest-neighbour sampling, source index ⌊i · in/out⌋ (OpenCV `INTER_NEAREST`); or it is
/// the model's own prediction, where the argmax over classes is c, as pytorch-grad-cam's
/// tutorial builds it. Pitfall: the predicted mask depends on y but is piecewise constant, so
/// it is held fixed in the gradient, exactly as the tutorial's NumPy mask is.
public struct RegionTarget: AttributionTarget {
    public enum Mask: Sendable {
        /// Weights at the input's resolution, row-major [height, width].
        case pixels([Float], height: Int, width: Int)
        /// A box in input pixels, x0 ≤ x < x1 and y0 ≤ y < y1, in an image of this size.
        case box(x0: Double, y0: Double, x1: Double, y1: Double, height: Int, width: Int)
        /// Where the argmax over classes equals the class.
        case predicted
    }

    public var index: Int
    public var mask: Mask
    public var tensor: String?

    public init(class index: Int, mask: Mask, tensor: String? = nil) {
        self.index = index
        self.mask = mask
        self.tensor = tensor
    }

    public var classIndex: Int? { index }

    public var summary: String {
        switch mask {
        case .pixels: return "class \(index) over a mask"
        case .box(let x0, let y0, let x1, let y1, _, _): return "class \(index) over the box \(x0),\(y0),\(x1),\(y1)"
        case .predicted: return "class \(index) over its predicted mask"
        }
    }

    public func score(_ item: TargetItem) throws -> Float {
        let (start, weights) = try plane(item)
        return weights.indices.reduce(0) { $0 + weights[$1] * item[start + $1] }
    }

    public func cotangent(_ item: TargetItem) throws -> [Float] {
        let (start, weights) = try plane(item)
        return item.sparseCotangent(weights.indices.filter { weights[$0] != 0 }.map { (start + $0, weights[$0]) })
    }

    /// The class plane's first offset and the mask at the item's H × W.
    func plane(_ item: TargetItem) throws -> (start: Int, weights: [Float]) {
        guard item.shape.count == 3 else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "a region needs a dense [N, C, H, W] output")
        }
        let (classes, height, width) = (item.shape[0], item.shape[1], item.shape[2])
        guard index >= 0 && index < classes else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "class index \(index) is out of range: expected 0..<\(classes)")
        }
        let plane = height * width
        switch mask {
        case .pixels(let values, let maskHeight, let maskWidth):
            return (index * plane, Self.nearest(values, from: (maskHeight, maskWidth), to: (height, width)))
        case .box(let x0, let y0, let x1, let y1, let imageHeight, let imageWidth):
            let pixels = (0..<(imageHeight * imageWidth)).map { i -> Float in
                let (y, x) = (Double(i / imageWidth) + 0.5, Double(i % imageWidth) + 0.5)
                return x >= x0 && x < x1 && y >= y0 && y < y1 ? 1 : 0
            }
            return (index * plane, Self.nearest(pixels, from: (imageHeight, imageWidth), to: (height, width)))
        case .predicted:
            let weights = (0..<plane).map { p -> Float in
                let best = (0..<classes).max { item[$0 * plane + p] < item[$1 * plane + p] }!
                return best == index ? 1 : 0
            }
            return (index * plane, weights)
        }
    }

    /// Nearest-neighbour resize, source index ⌊i · in/out⌋ on each axis.
    static func nearest(_ values: [Float], from source: (Int, Int), to size: (Int, Int)) -> [Float] {
        if source == size { return values }
        return (0..<(size.0 * size.1)).map { i in
            let y = min(source.0 - 1, (i / size.1) * source.0 / size.0)
            let x = min(source.1 - 1, (i % size.1) * source.1 / size.1)
            return values[y * source.1 + x]
        }
    }
}
