import CNNVizRuntime

/// Arithmetic that the CAM methods and the runner share, in pytorch-grad-cam's conventions.
enum CAMMath {
    /// Σ_c w[b,c]·A[b,c,·] per image, or with eigen-smooth the first principal component of
    /// the weighted activations (pytorch-grad-cam's `get_2d_projection`).
    static func weightedSum(_ a: Tensor, weights: [Float], eigenSmooth: Bool) -> [Float] {
        let (batch, channels, plane) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        let values = a.floats
        if eigenSmooth {
            var weighted = values
            for b in 0..<batch { for c in 0..<channels { for i in 0..<plane { weighted[(b * channels + c) * plane + i] *= weights[b * channels + c] } } }
            return (try? projections(Tensor(shape: a.shape, floats: weighted), flipSign: true)) ?? [Float](repeating: 0, count: batch * plane)
        }
        var map = [Float](repeating: 0, count: batch * plane)
        for b in 0..<batch {
            for c in 0..<channels {
                let w = weights[b * channels + c], base = (b * channels + c) * plane
                if w == 0 { continue }
                for i in 0..<plane { map[b * plane + i] += w * values[base + i] }
            }
        }
        return map
    }

    /// Σ_c f(A, g) per image, for the element-wise methods; with eigen-smooth, the first
    /// principal component of f(A, g) instead of the channel sum.
    static func elementwiseSum(_ a: Tensor, _ g: Tensor, eigenSmooth: Bool, _ f: (Float, Float) -> Float) throws -> [Float] {
        let (batch, channels, plane) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        let av = a.floats, gv = g.floats
        if eigenSmooth {
            return try projections(Tensor(shape: a.shape, floats: zip(av, gv).map { f($0, $1) }), flipSign: true)
        }
        var map = [Float](repeating: 0, count: batch * plane)
        for b in 0..<batch {
            for c in 0..<channels {
                let base = (b * channels + c) * plane
                for i in 0..<plane { map[b * plane + i] += f(av[base + i], gv[base + i]) }
            }
        }
        return map
    }

    /// Per image, the projection of the (h·w × C) matrix, centred per channel, onto its first
    /// right-singular vector; NaN counts as 0. With `flipSign`, the sign is chosen so that
    /// |max| ≥ |min| (Seg-Eigen-CAM's rule; pytorch-grad-cam keeps whatever the SVD gave).
    static func projections(_ a: Tensor, flipSign: Bool) throws -> [Float] {
        let (batch, channels, plane) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        let values = a.floats
        var result = [Float]()
        for b in 0..<batch {
            var matrix = [Float](repeating: 0, count: plane * channels)
            for c in 0..<channels { for i in 0..<plane { matrix[i * channels + c] = values[(b * channels + c) * plane + i] } }
            var projection = try PrincipalComponent.projection(matrix, rows: plane, columns: channels)
            if flipSign, let high = projection.max(), let low = projection.min(), abs(low) > abs(high) {
                projection = projection.map { -$0 }
            }
            result += projection.map { Float($0) }
        }
        return result
    }

    /// x − min, then ÷ (max + 1e-7), per image (pytorch-grad-cam's `scale_cam_image`).
    static func minMax(_ map: inout [Float], images: Int) {
        let plane = map.count / max(images, 1)
        for b in 0..<images {
            let range = (b * plane)..<((b + 1) * plane)
            guard let low = map[range].min() else { continue }
            for i in range { map[i] -= low }
            let high = map[range].max() ?? 0
            for i in range { map[i] /= (1e-7 + high) }
        }
    }

    /// Bilinear resize with OpenCV's INTER_LINEAR rule on float images: source coordinate
    /// (x + ½)·in/out − ½, clamped to the first pixel below 0 and to the last at or past
    /// in − 1 (weight 0 on the missing neighbour). Pitfall: this is cv2.resize, which
    /// pytorch-grad-cam uses, not torch's interpolate (whose clamping differs at the edges).
    static func resize(_ map: [Float], images: Int, from source: (h: Int, w: Int), to target: (h: Int, w: Int)) -> [Float] {
        if source == target { return map }
        return bilinear(map, images: images, from: source, to: target) { size, out in
            let scale = Double(size) / Double(out)
            return (0..<out).map { x in
                var f = (Double(x) + 0.5) * scale - 0.5
                var s = Int(f.rounded(.down))
                f -= Double(s)
                if s < 0 { f = 0; s = 0 }
                if s >= size - 1 { f = 0; s = size - 1 }
                return (s, min(s + 1, size - 1), Float(f))
            }
        }
    }

    /// Nearest-neighbour resize, source index ⌊x·in/out⌋ (torch's `interpolate(mode="nearest")`,
    /// which Captum's `LayerAttribution.interpolate` uses).
    static func nearestResize(_ map: [Float], images: Int, from source: (h: Int, w: Int), to target: (h: Int, w: Int)) -> [Float] {
        if source == target { return map }
        return bilinear(map, images: images, from: source, to: target) { size, out in
            (0..<out).map { x in
                let s = min(x * size / out, size - 1)
                return (s, s, 0)
            }
        }
    }

    /// Bilinear resize with align_corners = True (torch's UpsamplingBilinear2d): source
    /// coordinate x·(in − 1)/(out − 1), so the corner pixels map onto each other.
    static func alignedCornersResize(_ map: [Float], images: Int, from source: (h: Int, w: Int), to target: (h: Int, w: Int)) -> [Float] {
        bilinear(map, images: images, from: source, to: target) { size, out in
            let scale = out > 1 ? Float(size - 1) / Float(out - 1) : 0
            return (0..<out).map { x in
                let f = Float(x) * scale
                let s = min(Int(f), size - 1)
                return (s, min(s + 1, size - 1), f - Float(s))
            }
        }
    }

    /// Separable bilinear interpolation, given per axis the two source taps and the weight of
    /// the second for every output index.
    static func bilinear(_ map: [Float], images: Int, from source: (h: Int, w: Int), to target: (h: Int, w: Int),
                         taps: (_ size: Int, _ out: Int) -> [(Int, Int, Float)]) -> [Float] {
        let rows = taps(source.h, target.h), columns = taps(source.w, target.w)
        var result = [Float](repeating: 0, count: images * target.h * target.w)
        for b in 0..<images {
            let base = b * source.h * source.w
            for (y, (y0, y1, fy)) in rows.enumerated() {
                for (x, (x0, x1, fx)) in columns.enumerated() {
                    let top = map[base + y0 * source.w + x0] * (1 - fx) + map[base + y0 * source.w + x1] * fx
                    let bottom = map[base + y1 * source.w + x0] * (1 - fx) + map[base + y1 * source.w + x1] * fx
                    result[(b * target.h + y) * target.w + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return result
    }
}
