/// Resizing and cropping of RGB images, bit-exact with Pillow (and so with torchvision's
/// `Resize` and `CenterCrop` on PIL images).
public enum ImageResampling {
    /// Pillow's `Image.resize(size, Image.BILINEAR)`: a triangle filter with half-pixel
    /// centres, antialiased, in Pillow's 22-bit fixed point.
    ///
    /// Output pixel x has source centre c = (x + ½)·s, s = in/out. The triangle's support
    /// widens to f = max(s, 1) when shrinking, so downscaling averages instead of skipping
    /// pixels: taps i in [⌊c − f + ½⌋, ⌊c + f + ½⌋) weigh max(0, 1 − |(i − c + ½)/f|),
    /// normalised to sum 1 and rounded to integers k = ⌊½ + w·2²²⌋. A pass computes
    /// (2²¹ + Σ k·p) >> 22, clamped to 0…255. Horizontal pass first, rounded to 8 bits, then
    /// vertical; a pass whose size does not change is skipped.
    /// Pitfalls: OpenCV's INTER_LINEAR (2 taps, no antialiasing) aliases on large reductions
    /// and gives visibly different model inputs; and the same filter in floating point still
    /// differs from Pillow by a level now and then, a whole unit after Caffe's mean subtraction.
    public static func bilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)×\(height)")
        var pixels = image.pixels, currentWidth = image.width
        if width != image.width {
            pixels = resampled(pixels, lines: image.height, inSize: image.width, outSize: width,
                               lineStride: image.width * 3, sampleStride: 3, outLineStride: width * 3, outSampleStride: 3)
            currentWidth = width
        }
        if height != image.height {
            pixels = resampled(pixels, lines: currentWidth, inSize: image.height, outSize: height,
                               lineStride: 3, sampleStride: currentWidth * 3, outLineStride: 3, outSampleStride: currentWidth * 3)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static let precisionBits = 22

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter: per
    /// output index, the first source index and the fixed-point weights.
    static func coefficients(inSize: Int, outSize: Int) -> [(first: Int, weights: [Int32])] {
        unroundedCoefficients(inSize: inSize, outSize: outSize).map { first, weights in
            (first, weights.map { Int32(0.5 + $0 * Double(1 << precisionBits)) })
        }
    }

    /// Pillow's `precompute_coeffs` for the bilinear filter, normalised to sum 1 (the weights
    /// Pillow uses for float images). The expression order follows Pillow's C so that every
    /// double, and so every rounded weight, is the same.
    static func unroundedCoefficients(inSize: Int, outSize: Int) -> [(first: Int, weights: [Double])] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale
        let reciprocal = 1.0 / filterScale
        return (0..<outSize).map { x in
            let centre = (Double(x) + 0.5) * scale
            let low = max(0, Int(centre - support + 0.5))
            let high = min(inSize, Int(centre + support + 0.5))
            var weights = [Double]()
            var total = 0.0
            for i in low..<max(low, high) {
                let t = abs((Double(i) - centre + 0.5) * reciprocal)
                let w = t < 1 ? 1 - t : 0
                weights.append(w)
                total += w
            }
            return (low, weights.map { total != 0 ? $0 / total : $0 })
        }
    }

    static func resampled(_ source: [UInt8], lines: Int, inSize: Int, outSize: Int, lineStride: Int, sampleStride: Int,
                          outLineStride: Int, outSampleStride: Int) -> [UInt8] {
        let table = coefficients(inSize: inSize, outSize: outSize)
        let half = Int32(1 << (precisionBits - 1)), top = Int32(1 << (precisionBits + 8))
        var out = [UInt8](repeating: 0, count: lines * outSize * 3)
        source.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for line in 0..<lines {
                    for (o, (first, weights)) in table.enumerated() {
                        let start = line * lineStride + first * sampleStride
                        var sums = (half, half, half)
                        for (k, weight) in weights.enumerated() {
                            let p = start + k * sampleStride
                            sums.0 &+= Int32(input[p]) &* weight
                            sums.1 &+= Int32(input[p + 1]) &* weight
                            sums.2 &+= Int32(input[p + 2]) &* weight
                        }
                        let target = line * outLineStride + o * outSampleStride
                        output[target] = clip8(sums.0, top)
                        output[target + 1] = clip8(sums.1, top)
                        output[target + 2] = clip8(sums.2, top)
                    }
                }
            }
        }
        return out
    }

    @inline(__always) static func clip8(_ sum: Int32, _ top: Int32) -> UInt8 {
        sum >= top ? 255 : sum <= 0 ? 0 : UInt8(truncatingIfNeeded: sum >> Int32(precisionBits))
    }

    /// The centred width×height window, as torchvision's `CenterCrop`: the offset is
    /// round((in − out)/2) with Python's round-half-to-even (80.5 → 80).
    /// Pitfall: torchvision pads with zeros when the crop is larger than the image;
    /// `Preprocessing` refuses that case instead, so this requires width, height ≤ the image's.
    public static func centreCrop(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0 && width <= image.width && height <= image.height,
                     "crop \(width)×\(height) from \(image.width)×\(image.height)")
        let left = Int((Double(image.width - width) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(image.height - height) / 2).rounded(.toNearestOrEven))
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * 3)
        for y in top..<top + height {
            let start = (y * image.width + left) * 3
            pixels.append(contentsOf: image.pixels[start..<start + width * 3])
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
