import CNNVizRuntime

/// How a [B, 3, H, W] RGB image in [0, 1] becomes the model's input inside the optimisation:
/// x[c] = Σ_j weights[c][j] · rgb[j] + offsets[c], one row per model channel. A model's usual
/// preprocessing is of this form (scale, mean and std per channel, BGR order, gray), so the
/// optimisation sees the model's own input and the images stay plain RGB.
public struct ModelInputMapping: Sendable, Equatable {
    /// [C][3].
    public var weights: [[Float]]
    /// [C].
    public var offsets: [Float]

    public init(weights: [[Float]], offsets: [Float]) {
        precondition(weights.count == offsets.count && weights.allSatisfy { $0.count == 3 }, "one row of three weights per offset")
        self.weights = weights
        self.offsets = offsets
    }

    /// RGB in [0, 1] as it is.
    public static let identity = ModelInputMapping(weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], offsets: [0, 0, 0])

    public var channels: Int { offsets.count }

    func apply(_ images: Tensor) -> Tensor {
        let (batch, plane) = (images.shape[0], images.shape[2] * images.shape[3])
        let rgb = images.floats, channels = self.channels
        var result = [Float](repeating: 0, count: batch * channels * plane)
        rgb.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                let (input, output) = (input.baseAddress!, output.baseAddress!)
                Parallel.forEach(batch * channels) { index in
                    let (b, c) = (index / channels, index % channels)
                    let (w, offset) = (weights[c], offsets[c])
                    let (x, y) = (input + b * 3 * plane, output + index * plane)
                    for p in 0..<plane { y[p] = w[0] * x[p] + w[1] * x[plane + p] + w[2] * x[2 * plane + p] + offset }
                }
            }
        }
        return Tensor(shape: [batch, channels, images.shape[2], images.shape[3]], floats: result)
    }

    func adjoint(_ gradient: Tensor) -> Tensor {
        let (batch, plane) = (gradient.shape[0], gradient.shape[2] * gradient.shape[3])
        let g = gradient.floats, channels = self.channels
        var result = [Float](repeating: 0, count: batch * 3 * plane)
        g.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                let (input, output) = (input.baseAddress!, output.baseAddress!)
                Parallel.forEach(batch * 3) { index in
                    let (b, j) = (index / 3, index % 3)
                    let y = output + index * plane
                    for c in 0..<channels where weights[c][j] != 0 {
                        let (w, x) = (weights[c][j], input + (b * channels + c) * plane)
                        for p in 0..<plane { y[p] += w * x[p] }
                    }
                }
            }
        }
        return Tensor(shape: [batch, 3, gradient.shape[2], gradient.shape[3]], floats: result)
    }
}
