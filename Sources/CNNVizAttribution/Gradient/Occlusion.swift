import CNNVizRuntime

extension SaliencyRunner {
    /// Captum's Occlusion over (H, W) with all channels in each window: window positions
    /// i·stride for i < ⌈(size − window)/stride⌉ + 1, the last one cropped at the edge; each
    /// pixel gets the mean over the windows covering it of f(x) − f(x with the window set to
    /// the baseline value). Windows are evaluated in batches, forward only.
    func occlusion(_ x: Tensor, target: any AttributionTarget, logits: String, request: SaliencyRequest) throws -> Tensor {
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let (wh, ww) = request.window, (sh, sw) = request.stride
        guard wh >= 1, ww >= 1, sh >= 1, sw >= 1, wh <= height, ww <= width else {
            throw CNNVizError(.invalidArgument, "the occlusion window \(wh)×\(ww) with stride \(sh)×\(sw) must fit the \(height)×\(width) input")
        }
        let rows = (height - wh + sh - 1) / sh + 1, columns = (width - ww + sw - 1) / sw + 1
        let windows = (0..<(rows * columns)).map { (y: ($0 / columns) * sh, x: ($0 % columns) * sw) }
        let values = x.floats, plane = height * width
        let original = try target.score(TargetItem(try session.run([inputName: x], outputs: [logits])[logits]!, name: logits))
        var differences = [Float]()
        var start = 0
        while start < windows.count {
            let count = min(request.batchSize, windows.count - start)
            var batch = [Float]()
            batch.reserveCapacity(count * values.count)
            for window in windows[start..<(start + count)] {
                var copy = values
                for c in 0..<channels {
                    for yy in window.y..<min(window.y + wh, height) {
                        for xx in window.x..<min(window.x + ww, width) { copy[c * plane + yy * width + xx] = request.occlusionValue }
                    }
                }
                batch += copy
            }
            let scores = try CAMRunner(session: session).targetScores(input: Tensor(shape: [count, channels, height, width], floats: batch),
                                                                      target: target, tensor: logits)
            differences += scores.map { original - $0 }
            start += count
            progress?(start, windows.count)
        }
        var total = [Float](repeating: 0, count: plane), counts = [Float](repeating: 0, count: plane)
        for (window, difference) in zip(windows, differences) {
            for yy in window.y..<min(window.y + wh, height) {
                for xx in window.x..<min(window.x + ww, width) {
                    total[yy * width + xx] += difference
                    counts[yy * width + xx] += 1
                }
            }
        }
        let perPixel = (0..<plane).map { counts[$0] > 0 ? total[$0] / counts[$0] : 0 }
        return Tensor(shape: x.shape, floats: (0..<(channels * plane)).map { perPixel[$0 % plane] })
    }
}
