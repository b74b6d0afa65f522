import CNNVizRuntime

/// One H×W plane of Float32 values, row-major: a CAM or an attribution map as the renderer
/// draws it.
struct MapPlane {
    var width: Int
    var height: Int
    var values: [Float]

    /// The plane of a map tensor shaped [H, W], [C, H, W] or [N, C, H, W]: item `batchIndex`,
    /// with its channels summed (Captum's `np.sum(attr, axis=2)` on HWC). With
    /// `requireSingleChannel`, C must be 1 (a CAM).
    init(_ tensor: Tensor, name: String, batchIndex: Int = 0, requireSingleChannel: Bool = false) throws {
        guard tensor.isFloatingPoint else {
            throw CNNVizError(.invalidArgument, "the \(name) must hold floating-point values, not \(tensor.elementType)")
        }
        let shape = tensor.shape
        let batch: Int, channels: Int
        switch shape.count {
        case 2: (batch, channels) = (1, 1)
        case 3: (batch, channels) = (1, shape[0])
        case 4: (batch, channels) = (shape[0], shape[1])
        default:
            throw CNNVizError(.shapeMismatch, "the \(name) must be shaped [H, W], [C, H, W] or [N, C, H, W], not \(shape)")
        }
        height = shape[shape.count - 2]
        width = shape[shape.count - 1]
        guard height > 0, width > 0, channels > 0 else {
            throw CNNVizError(.shapeMismatch, "the \(name) \(shape) is empty")
        }
        guard (0..<batch).contains(batchIndex) else {
            throw CNNVizError(.invalidArgument, "batch index \(batchIndex) is outside the \(name)'s batch of \(batch) (shape \(shape))")
        }
        if requireSingleChannel && channels != 1 {
            throw CNNVizError(.shapeMismatch, "the \(name) must have one channel, not \(channels) (shape \(shape)); "
                                  + "reduce the channels first, or pass an attribution to the attribution views")
        }
        let all = tensor.floats
        let planeSize = height * width
        let start = batchIndex * channels * planeSize
        var summed = Array(all[start..<(start + planeSize)])
        for channel in 1..<max(channels, 1) {
            let offset = start + channel * planeSize
            for index in 0..<planeSize { summed[index] += all[offset + index] }
        }
        values = summed
    }

    init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height)
        self.width = width
        self.height = height
        self.values = values
    }

    /// Throws unless `image` has the plane's size, naming both.
    func requireSize(of image: RGBImageSize, name: String) throws {
        guard image.width == width, image.height == height else {
            throw CNNVizError(.shapeMismatch,
                              "the \(name) is \(width)×\(height) but the image is \(image.width)×\(image.height); "
                                  + "resize the map to the image the model saw (or pass that image)")
        }
    }
}

/// A width and a height, for size checks.
struct RGBImageSize {
    var width: Int
    var height: Int
}
