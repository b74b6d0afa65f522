import CNNVizRuntime

extension Preprocessing {
    /// The image the model saw: the inverse of `normalised`, p = (t·std[c] + mean[c]) / scale,
    /// rounded and clamped to 0…255, channels back in RGB order (gray repeated).
    ///
    /// Pitfall: for `.none` and custom scales the round trip is exact only up to the 8-bit
    /// rounding; values outside 0…255 (a tensor edited by hand) are clamped.
    public func image(from tensor: Tensor, batchIndex: Int = 0) throws -> RGBImage {
        guard tensor.rank == 4, tensor.shape[1] == channels.count, batchIndex < tensor.shape[0] else {
            throw CNNVizError(.shapeMismatch,
                              "expected a [N, \(channels.count), H, W] tensor for preprocessing '\(name)' (item \(batchIndex)), found \(tensor.shape)")
        }
        let (h, w) = (tensor.shape[2], tensor.shape[3]), plane = h * w
        let values = tensor.floats
        let base = batchIndex * channels.count * plane
        let order: [Int] = switch channels { case .rgb: [0, 1, 2]; case .bgr: [2, 1, 0]; case .gray: [0, 0, 0] }
        var pixels = [UInt8](repeating: 0, count: 3 * plane)
        for (rgb, c) in order.enumerated() {
            let m = mean.count == 1 ? mean[0] : mean[c], s = std.count == 1 ? std[0] : std[c]
            for i in 0..<plane {
                let p = ((values[base + c * plane + i] * s + m) / scale).rounded()
                pixels[3 * i + rgb] = UInt8(max(0, min(255, p.isNaN ? 0 : p)))
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}
