/// Interleaved samples as a decoder hands them over (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA;
/// 8 bits, or 16 bits big-endian), turned into 8-bit RGB on white.
///
/// - 16 → 8 bits keeps the high byte, v >> 8, as Pillow does for 16-bit RGB, RGBA and
///   gray+alpha PNGs. Pitfall: the rounded v/257 (libpng's simplified API) differs by one
///   level on about half of all values. (Pillow opens 16-bit gray as "I;16" and its
///   convert("RGB") clips at 255 instead; cnn-viz takes the high byte there too.)
/// - Alpha is composited onto white: out = (c·α + 255·(255 − α) + 127) / 255 in integers,
///   i.e. round(α/255·c + (1 − α/255)·255). White, so that a transparent background reads as
///   paper rather than black; this is the documented choice, and the reference script
///   composites the same way.
struct PixelSamples {
    var channels: Int
    var bitDepth: Int

    var bytesPerPixel: Int { channels * bitDepth / 8 }

    func rgbOnWhite(_ samples: [UInt8], width: Int, height: Int) -> RGBImage {
        let count = width * height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        let step = bitDepth / 8  // the high byte of a big-endian 16-bit sample comes first
        let hasAlpha = channels == 2 || channels == 4
        let colour = channels >= 3
        samples.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let base = i * channels * step
                    let r = Int(source[base])
                    let g = colour ? Int(source[base + step]) : r
                    let b = colour ? Int(source[base + 2 * step]) : r
                    if hasAlpha {
                        let alpha = Int(source[base + (channels - 1) * step]), white = 255 * (255 - alpha) + 127
                        out[3 * i] = UInt8((r * alpha + white) / 255)
                        out[3 * i + 1] = UInt8((g * alpha + white) / 255)
                        out[3 * i + 2] = UInt8((b * alpha + white) / 255)
                    } else {
                        out[3 * i] = UInt8(r)
                        out[3 * i + 1] = UInt8(g)
                        out[3 * i + 2] = UInt8(b)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}
