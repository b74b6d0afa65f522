/// CMYK (as a JPEG stores it) to RGB, exactly as Pillow converts it.
///
/// Adobe's applications write CMYK JPEGs inverted (0 = full ink), and Pillow reads every
/// 4-component JPEG with that convention ("CMYK;I"), marker or not. So each stored sample s
/// gives ink c = 255 − s; then, with nk = 255 − k (the paper left by the black ink),
/// R = nk − round(c·nk/255), likewise G from m and B from y — Pillow's `cmyk2rgb` with its
/// integer rounding MULDIV255(a, b) = ((t >> 8) + t) >> 8, t = a·b + 128.
/// Pitfall: this is a naive conversion with no ICC profile, so colours differ from what
/// Photoshop shows; it is what Pillow, and hence most training pipelines, produce.
enum CMYKConversion {
    static func rgb(fromStoredCMYK samples: [UInt8], width: Int, height: Int) -> RGBImage {
        let count = width * height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        samples.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let nk = Int(source[4 * i + 3])  // 255 − k, where k = 255 − stored
                    for c in 0..<3 {
                        let ink = 255 - Int(source[4 * i + c])
                        let t = ink * nk + 128
                        out[3 * i + c] = UInt8(clamping: nk - (((t >> 8) + t) >> 8))
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}
