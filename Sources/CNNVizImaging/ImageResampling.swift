/// Resizing and cropping of RGB images.
public enum ImageResampling {
    /// Bilinear resize with half-pixel centres: source = (x + ½)·in/out − ½, clamped to the edge.
    public static func bilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        if width == image.width && height == image.height { return image }
        func taps(_ out: Int, _ inSize: Int) -> [(Int, Int, Float)] {
            (0..<out).map { o in
                let source = max(0, (Float(o) + 0.5) * Float(inSize) / Float(out) - 0.5)
                let low = min(Int(source), inSize - 1)
                return (low, min(low + 1, inSize - 1), source - Float(low))
            }
        }
        let xs = taps(width, image.width), ys = taps(height, image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for (y, (y0, y1, fy)) in ys.enumerated() {
                for (x, (x0, x1, fx)) in xs.enumerated() {
                    for c in 0..<3 {
                        let a = Float(src[(y0 * image.width + x0) * 3 + c]), b = Float(src[(y0 * image.width + x1) * 3 + c])
                        let d = Float(src[(y1 * image.width + x0) * 3 + c]), e = Float(src[(y1 * image.width + x1) * 3 + c])
                        let top = a + (b - a) * fx, bottom = d + (e - d) * fx
                        pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, (top + (bottom - top) * fy).rounded())))
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The centred width×height window; an odd margin puts the extra pixel at the end.
    public static func centreCrop(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let left = (image.width - width) / 2, top = (image.height - height) / 2
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * 3)
        for y in top..<top + height {
            let start = (y * image.width + left) * 3
            pixels.append(contentsOf: image.pixels[start..<start + width * 3])
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
