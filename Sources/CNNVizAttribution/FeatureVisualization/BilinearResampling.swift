import CNNVizRuntime

/// A linear map of a [B, C, H, W] batch's planes to planes of another size, and its adjoint
/// (the transpose), which carries the gradient back.
protocol ImageResampling {
    func apply(_ tensor: Tensor) -> Tensor
    func adjoint(_ gradient: Tensor) -> Tensor
}

/// A resampling of every [H, W] plane of a [B, C, H, W] batch: output pixel (x, y) reads the
/// input at a source point (u, v) in pixel coordinates, bilinearly from its four neighbours,
/// each neighbour outside the input counting as 0 (torch's `grid_sample` with zeros padding
/// and aligned corners, which kornia's warps amount to). The rotation uses it; axis-aligned
/// resizes take `AlignedCornersResize`, whose weights factor by axis.
///
/// It is linear in the input, so the gradient is its adjoint: each output gradient is
/// scattered back to the same four neighbours with the same weights. The taps are computed
/// once per geometry and shared by every plane.
struct BilinearResampling: ImageResampling {
    let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int
    /// Per output pixel, four (input index, weight); a tap outside the input is (0, 0).
    private var indices: [Int32]
    private var weights: [Float]

    /// `source(x, y)` gives (u, v) for output pixel (x, y); rows are computed in parallel.
    init(input: (height: Int, width: Int), output: (height: Int, width: Int), source: (Int, Int) -> (u: Float, v: Float)) {
        (inputHeight, inputWidth, outputHeight, outputWidth) = (input.height, input.width, output.height, output.width)
        let count = output.height * output.width
        var indices = [Int32](repeating: 0, count: 4 * count)
        var weights = [Float](repeating: 0, count: 4 * count)
        indices.withUnsafeMutableBufferPointer { indices in
            weights.withUnsafeMutableBufferPointer { weights in
                Parallel.forEach(output.height) { y in
                    for x in 0..<output.width {
                        let (u, v) = source(x, y)
                        guard u.isFinite, v.isFinite, u > -1, v > -1, u < Float(input.width), v < Float(input.height) else { continue }
                        let (u0, v0) = (Int(u.rounded(.down)), Int(v.rounded(.down)))
                        let (fu, fv) = (u - Float(u0), v - Float(v0))
                        let base = 4 * (y * output.width + x)
                        func tap(_ k: Int, column: Int, row: Int, weight: Float) {
                            guard column >= 0, row >= 0, column < input.width, row < input.height, weight != 0 else { return }
                            indices[base + k] = Int32(row * input.width + column)
                            weights[base + k] = weight
                        }
                        tap(0, column: u0, row: v0, weight: (1 - fu) * (1 - fv))
                        tap(1, column: u0 + 1, row: v0, weight: fu * (1 - fv))
                        tap(2, column: u0, row: v0 + 1, weight: (1 - fu) * fv)
                        tap(3, column: u0 + 1, row: v0 + 1, weight: fu * fv)
                    }
                }
            }
        }
        (self.indices, self.weights) = (indices, weights)
    }

    /// The resampled batch, [B, C, outputHeight, outputWidth]; planes in parallel. Every pixel
    /// sums its four taps without a branch (an outside tap weighs 0), so the input must be finite.
    func apply(_ tensor: Tensor) -> Tensor {
        let result = eachPlane(tensor.floats, from: inputHeight * inputWidth, to: outputHeight * outputWidth) { source, target, indices, weights, pixels in
            for pixel in 0..<pixels {
                var sum: Float = 0
                for tap in (4 * pixel)..<(4 * pixel + 4) { sum += weights[tap] * source[Int(indices[tap])] }
                target[pixel] = sum
            }
        }
        return Tensor(shape: Array(tensor.shape.prefix(2)) + [outputHeight, outputWidth], floats: result)
    }

    /// The adjoint: ∂L/∂input from ∂L/∂output (each plane scatters into its own plane).
    func adjoint(_ gradient: Tensor) -> Tensor {
        let result = eachPlane(gradient.floats, from: outputHeight * outputWidth, to: inputHeight * inputWidth) { source, target, indices, weights, pixels in
            for pixel in 0..<pixels {
                let g = source[pixel]
                for tap in (4 * pixel)..<(4 * pixel + 4) where weights[tap] != 0 { target[Int(indices[tap])] += weights[tap] * g }
            }
        }
        return Tensor(shape: Array(gradient.shape.prefix(2)) + [inputHeight, inputWidth], floats: result)
    }

    /// Runs `body` on every plane of `values` (planes of `from` values) in parallel, each
    /// writing its own plane of `to` values, zeroed just before (so still in that core's
    /// cache), with the taps (`outputHeight·outputWidth` output pixels of four each).
    private func eachPlane(_ values: [Float], from: Int, to: Int,
                           _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafePointer<Float>, Int) -> Void) -> [Float] {
        let planes = values.count / from, pixels = outputHeight * outputWidth
        return values.withUnsafeBufferPointer { input in
            [Float](unsafeUninitializedCapacity: planes * to) { output, initialized in
                indices.withUnsafeBufferPointer { indices in
                    weights.withUnsafeBufferPointer { weights in
                        let (input, output, indices, weights) = (input.baseAddress!, output.baseAddress!, indices.baseAddress!, weights.baseAddress!)
                        Parallel.forEach(planes) { plane in
                            (output + plane * to).initialize(repeating: 0, count: to)
                            body(input + plane * from, output + plane * to, indices, weights, pixels)
                        }
                    }
                }
                initialized = planes * to
            }
        }
    }
}
