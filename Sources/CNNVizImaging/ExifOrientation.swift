/// The EXIF Orientation tag (0x0112 in IFD0): how the stored pixels must be turned to be
/// viewed upright. Cameras store the sensor's rows as they come and record the turn here.
///
/// | value | the stored image is            | case, the turn that `applied(to:)` makes (Pillow's name) |
/// |-------|-------------------------------|-----------------------------------------------------------|
/// | 1     | upright                       | `upright`: nothing                                        |
/// | 2     | mirrored                      | `flipLeftRight` (FLIP_LEFT_RIGHT)                         |
/// | 3     | upside down                   | `rotate180` (ROTATE_180)                                  |
/// | 4     | mirrored upside down          | `flipTopBottom` (FLIP_TOP_BOTTOM)                         |
/// | 5     | mirrored across the diagonal  | `transpose` (TRANSPOSE)                                   |
/// | 6     | turned 90° anticlockwise      | `rotate90Clockwise` (ROTATE_270, anticlockwise degrees)   |
/// | 7     | mirrored across the anti-diagonal | `transverse` (TRANSVERSE)                             |
/// | 8     | turned 90° clockwise          | `rotate90Anticlockwise` (ROTATE_90)                       |
///
/// Pitfall: 5–8 swap width and height, so a 4000×3000 portrait photo decodes to 3000×4000.
/// Values outside 1–8 are ignored, as Pillow ignores them.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case upright = 1, flipLeftRight, rotate180, flipTopBottom, transpose, rotate90Clockwise, transverse, rotate90Anticlockwise

    /// The Orientation value in a TIFF structure (the payload of a JPEG APP1 "Exif\0\0" segment
    /// after those six bytes, or of a PNG eXIf chunk): byte order "II" (little-endian) or "MM"
    /// (big-endian), the magic 42, the offset of IFD0, then IFD0's 12-byte entries
    /// (tag u16, type u16, count u32, value u32 — a SHORT value sits in the entry's first two
    /// value bytes). Nil when the structure is malformed or has no usable Orientation.
    public init?(tiff bytes: [UInt8]) {
        let bigEndian: Bool
        if bytes.hasBytes([0x4D, 0x4D], at: 0) { bigEndian = true } else if bytes.hasBytes([0x49, 0x49], at: 0) {
            bigEndian = false
        } else { return nil }
        guard bytes.uint16(at: 2, bigEndian: bigEndian) == 42, let ifd = bytes.uint32(at: 4, bigEndian: bigEndian),
              let entries = bytes.uint16(at: ifd, bigEndian: bigEndian) else { return nil }
        for index in 0..<entries {
            let entry = ifd + 2 + 12 * index
            guard let tag = bytes.uint16(at: entry, bigEndian: bigEndian) else { return nil }
            guard tag == 0x0112 else { continue }
            let value: Int?
            switch bytes.uint16(at: entry + 2, bigEndian: bigEndian) {
            case 3: value = bytes.uint16(at: entry + 8, bigEndian: bigEndian)  // SHORT
            case 4: value = bytes.uint32(at: entry + 8, bigEndian: bigEndian)  // LONG, seen in the wild
            default: value = nil
            }
            guard let value, let orientation = ExifOrientation(rawValue: value) else { return nil }
            self = orientation
            return
        }
        return nil
    }

    /// Whether undoing this orientation swaps width and height.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// The upright image: output pixel (x, y) reads stored pixel (sx, sy), where (u, v) is
    /// (y, x) for a transposing orientation and (x, y) otherwise, sx = u or W−1−u and
    /// sy = v or H−1−v.
    public func applied(to image: RGBImage) -> RGBImage {
        let (transpose, flipX, flipY): (Bool, Bool, Bool)
        switch self {
        case .upright: return image
        case .flipLeftRight: (transpose, flipX, flipY) = (false, true, false)
        case .rotate180: (transpose, flipX, flipY) = (false, true, true)
        case .flipTopBottom: (transpose, flipX, flipY) = (false, false, true)
        case .transpose: (transpose, flipX, flipY) = (true, false, false)
        case .rotate90Clockwise: (transpose, flipX, flipY) = (true, false, true)
        case .transverse: (transpose, flipX, flipY) = (true, true, true)
        case .rotate90Anticlockwise: (transpose, flipX, flipY) = (true, true, false)
        }
        let (width, height) = (image.width, image.height)
        let (outWidth, outHeight) = transpose ? (height, width) : (width, height)
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { out in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (u, v) = transpose ? (y, x) : (x, y)
                        let sx = flipX ? width - 1 - u : u, sy = flipY ? height - 1 - v : v
                        let from = (sy * width + sx) * 3, to = (y * outWidth + x) * 3
                        out[to] = source[from]
                        out[to + 1] = source[from + 1]
                        out[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }
}
