import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime

extension ModelInputMapping {
    /// The preprocessing's per-pixel part as a linear map from RGB in [0, 1]:
    /// x[c] = (255 · scale · rgb[source(c)] − mean[c]) / std[c], with BGR's channels swapped
    /// and gray as Pillow's luma weights (0.299, 0.587, 0.114). The resize and crop do not
    /// apply: the optimised images are made at the model's size.
    public init(_ preprocessing: Preprocessing) {
        let sources: [[Float]]
        switch preprocessing.channels {
        case .rgb: sources = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        case .bgr: sources = [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
        case .gray: sources = [[19595 / 65536, 38470 / 65536, 7471 / 65536]]
        }
        func value(_ values: [Float], _ c: Int) -> Float { values.count == 1 ? values[0] : values[c] }
        self.init(weights: sources.enumerated().map { c, row in row.map { $0 * 255 * preprocessing.scale / value(preprocessing.std, c) } },
                  offsets: sources.indices.map { c in -value(preprocessing.mean, c) / value(preprocessing.std, c) })
    }
}

extension RGBImage {
    /// Image b of a [B, 3, H, W] batch in [0, 1], rounded to 8 bits.
    public init(unitBatch tensor: Tensor, index b: Int) {
        let (height, width) = (tensor.shape[2], tensor.shape[3]), plane = height * width
        let values = tensor.floats
        var pixels = [UInt8](repeating: 0, count: 3 * plane)
        for p in 0..<plane {
            for c in 0..<3 { pixels[3 * p + c] = UInt8((min(max(values[(b * 3 + c) * plane + p], 0), 1) * 255).rounded()) }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
