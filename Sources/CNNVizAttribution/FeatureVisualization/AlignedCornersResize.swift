import CNNVizRuntime

/// Bilinear resize with aligned corners of every [H, W] plane of a [B, C, H, W] batch, as
/// torch's `Upsample(mode="bilinear", align_corners=True)`: output row y reads input row
/// v = y·(H − 1)/(H′ − 1), output column x reads u = x·(W − 1)/(W′ − 1), each from its two
/// neighbours with weights 1 − f and f (f the fractional part).
///
/// The weights factor by axis, so each output row is one vectorised blend of two input rows,
/// then two taps per pixel along that row, where a general `BilinearResampling` reads four
/// taps and four weights per pixel. Its adjoint runs the same steps transposed.
/// Pitfall: the blend goes rows first where torch goes columns first; the results differ by
/// float rounding only (about 1e-7 on [0, 1] images).
struct AlignedCornersResize: ImageResampling {
    let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int
    /// Per output row, and per output column: the two neighbours and their weights.
    let rows: [Taps], columns: [Taps]

    struct Taps {
        let first: Int, second: Int
        let firstWeight: Float, secondWeight: Float
    }

    init(input: (height: Int, width: Int), output: (height: Int, width: Int)) {
        (inputHeight, inputWidth, outputHeight, outputWidth) = (input.height, input.width, output.height, output.width)
        rows = Self.taps(from: input.height, to: output.height)
        columns = Self.taps(from: input.width, to: output.width)
    }

    /// The taps of `count` outputs over `size` inputs; a neighbour past the last input weighs 0.
    static func taps(from size: Int, to count: Int) -> [Taps] {
        let step = count > 1 ? Float(size - 1) / Float(count - 1) : 0
        return (0..<count).map { index in
            let u = step * Float(index)
            let first = min(Int(u.rounded(.down)), size - 1), fraction = u - Float(first)
            let second = min(first + 1, size - 1)
            return Taps(first: first, second: second, firstWeight: 1 - fraction, secondWeight: second == first ? 0 : fraction)
        }
    }

    func apply(_ tensor: Tensor) -> Tensor {
        let (iw, ow) = (inputWidth, outputWidth)
        let result = eachPlane(tensor, from: inputHeight * iw, to: outputHeight * ow) { input, output, blended in
            for (y, row) in rows.enumerated() {
                let (top, bottom) = (input + row.first * iw, input + row.second * iw)
                for x in 0..<iw { blended[x] = row.firstWeight * top[x] + row.secondWeight * bottom[x] }
                let target = output + y * ow
                for (x, column) in columns.enumerated() {
                    target[x] = column.firstWeight * blended[column.first] + column.secondWeight * blended[column.second]
                }
            }
        }
        return Tensor(shape: Array(tensor.shape.prefix(2)) + [outputHeight, ow], floats: result)
    }

    func adjoint(_ gradient: Tensor) -> Tensor {
        let (iw, ow) = (inputWidth, outputWidth)
        let result = eachPlane(gradient, from: outputHeight * ow, to: inputHeight * iw) { input, output, spread in
            output.initialize(repeating: 0, count: inputHeight * iw)
            for (y, row) in rows.enumerated() {
                spread.update(repeating: 0, count: iw)
                let source = input + y * ow
                for (x, column) in columns.enumerated() {
                    spread[column.first] += column.firstWeight * source[x]
                    spread[column.second] += column.secondWeight * source[x]
                }
                let (top, bottom) = (output + row.first * iw, output + row.second * iw)
                for x in 0..<iw { top[x] += row.firstWeight * spread[x] }
                for x in 0..<iw { bottom[x] += row.secondWeight * spread[x] }
            }
        }
        return Tensor(shape: Array(gradient.shape.prefix(2)) + [inputHeight, iw], floats: result)
    }

    /// Runs `body(input plane, output plane, row buffer)` on every plane in parallel; the row
    /// buffer holds one input row per worker.
    private func eachPlane(_ tensor: Tensor, from: Int, to: Int,
                           _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        let planes = tensor.count / from
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.workers * inputWidth)
        defer { buffers.deallocate() }
        return tensor.withFloats { values in
            [Float](unsafeUninitializedCapacity: planes * to) { output, initialized in
                let (input, output) = (values.baseAddress!, output.baseAddress!)
                Parallel.forEach(planes) { plane, worker in
                    body(input + plane * from, output + plane * to, buffers + worker * inputWidth)
                }
                initialized = planes * to
            }
        }
    }
}
