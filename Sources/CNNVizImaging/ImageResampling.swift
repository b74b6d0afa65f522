import Foundation

/// Resizing and cropping of RGB images.
public enum ImageResampling {
    /// Bilinear (triangle-filter) resize as PIL does it, which torchvision's `Resize` uses:
    /// each output pixel centre maps to source coordinate (x + ½)·in/out; the triangle filter's
    /// support widens by in/out when shrinking, so that downscaling averages (antialiases)
    /// instead of skipping pixels. Separable: a horizontal pass, rounding to 8 bits, then a
    /// vertical pass. Pitfall: a plain 2-tap bilinear (OpenCV's INTER_LINEAR) aliases on large
    /// reductions and gives visibly different model inputs.
    public static func bilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        if width == image.width && height == image.height { return image }
        let horizontal = resampleAxis(image.pixels, lines: image.height, inSize: image.width, outSize: width,
                                      lineStride: image.width * 3, sampleStride: 3, outLineStride: width * 3, outSampleStride: 3)
        let vertical = resampleAxis(horizontal, lines: width, inSize: image.height, outSize: height,
                                    lineStride: 3, sampleStride: width * 3, outLineStride: 3, outSampleStride: width * 3)
        return RGBImage(width: width, height: height, pixels: vertical)
    }

    /// Triangle-filter weights for each output index: the first source index and normalised weights.
    static func weights(inSize: Int, outSize: Int) -> [(Int, [Double])] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale
        return (0..<outSize).map { x in
            let centre = (Double(x) + 0.5) * scale
            let low = max(0, Int((centre - support + 0.5).rounded(.down)))
            let high = min(inSize, Int((centre + support + 0.5).rounded(.down)))
            var w = (low..<high).map { i in max(0, 1 - abs((Double(i) - centre + 0.5) / filterScale)) }
            let total = w.reduce(0, +)
            if total > 0 { w = w.map { $0 / total } }
            return (low, w)
        }
    }

    static func resampleAxis(_ source: [UInt8], lines: Int, inSize: Int, outSize: Int, lineStride: Int, sampleStride: Int,
                             outLineStride: Int, outSampleStride: Int) -> [UInt8] {
        let table = weights(inSize: inSize, outSize: outSize)
        var out = [UInt8](repeating: 0, count: lines * outSize * 3)
        for line in 0..<lines {
            for (o, (first, w)) in table.enumerated() {
                for c in 0..<3 {
                    var sum = 0.0
                    for (k, weight) in w.enumerated() {
                        sum += weight * Double(source[line * lineStride + (first + k) * sampleStride + c])
                    }
                    out[line * outLineStride + o * outSampleStride + c] = UInt8(max(0, min(255, sum.rounded())))
                }
            }
        }
        return out
    }

    /// The centred width×height window, as torchvision's CenterCrop: the offset is
    /// round((in − out)/2) with Python's round-half-to-even (80.5 → 80).
    public static func centreCrop(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
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
