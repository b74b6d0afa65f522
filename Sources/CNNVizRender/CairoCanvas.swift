import CCairo
import CNNVizRuntime

/// Draws a `Picture`'s elements on any Cairo surface: an ARGB32 image surface for PNG, or
/// Cairo's PDF and SVG surfaces. The only place that knows Cairo's pixel layout.
///
/// Cairo's ARGB32 is one native-endian UInt32 per pixel, alpha in the top byte, colour
/// premultiplied by alpha. Pitfall: forgetting the premultiplication makes translucent
/// pixels too bright, and reading the bytes as R, G, B, A swaps red and blue on
/// little-endian machines.
final class CairoCanvas {
    let context: OpaquePointer

    /// A canvas on `surface`; the canvas keeps its own reference to the surface.
    init(surface: OpaquePointer) throws {
        context = cairo_create(surface)
        try CairoCanvas.check(cairo_status(context), "cannot create a Cairo context")
    }

    deinit { cairo_destroy(context) }

    /// Replays every element of `picture`, background first.
    func draw(_ picture: Picture) throws {
        if let background = picture.background {
            setColor(background)
            cairo_paint(context)
        }
        for element in picture.elements {
            switch element {
            case .image(let image, let frame): try drawImage(image, in: frame)
            case .rectangle(let rect, let fill):
                setColor(fill)
                cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
                cairo_fill(context)
            case .outline(let rect, let stroke, let lineWidth):
                setColor(stroke)
                cairo_set_line_width(context, lineWidth)
                cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
                cairo_stroke(context)
            case .text(let string, let x, let y, let size, let color, let anchor):
                setColor(color)
                CairoCanvas.selectFont(context, size: size)
                let width = CairoCanvas.advance(of: string, in: context)
                let start: Double
                switch anchor {
                case .left: start = x
                case .center: start = x - width / 2
                case .right: start = x - width
                }
                cairo_move_to(context, start, y)
                string.withCString { cairo_show_text(context, $0) }
            }
        }
        try CairoCanvas.check(cairo_status(context), "drawing failed")
    }

    private func setColor(_ color: RGBColor) {
        cairo_set_source_rgb(context, Double(color.red) / 255, Double(color.green) / 255, Double(color.blue) / 255)
    }

    /// Paints `image` stretched over `frame`, sampling the nearest source pixel.
    private func drawImage(_ image: RGBAImage, in frame: Picture.Rect) throws {
        guard image.width > 0, image.height > 0, frame.width > 0, frame.height > 0 else { return }
        let source = try CairoCanvas.makeSurface(from: image)
        defer { cairo_surface_destroy(source) }
        cairo_save(context)
        cairo_translate(context, frame.x, frame.y)
        cairo_scale(context, frame.width / Double(image.width), frame.height / Double(image.height))
        cairo_set_source_surface(context, source, 0, 0)
        let pattern = cairo_get_source(context)
        cairo_pattern_set_filter(pattern, CAIRO_FILTER_NEAREST)
        cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
        cairo_rectangle(context, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(context)
        cairo_restore(context)
    }

    // MARK: - Image surfaces

    /// The largest side Cairo's image surfaces accept.
    static let maximumSide = 32767

    /// A new, transparent ARGB32 image surface.
    static func makeImageSurface(width: Int, height: Int) throws -> OpaquePointer {
        guard width > 0, height > 0, width <= maximumSide, height <= maximumSide else {
            throw CNNVizError(.invalidArgument,
                              "a raster picture must be 1 to \(maximumSide) pixels on each side, not \(width)×\(height); "
                                  + "draw fewer tiles or a smaller scale")
        }
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))!
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw CairoCanvas.error(status, "cannot create a \(width)×\(height) image surface")
        }
        return surface
    }

    /// An image surface holding `image`, premultiplied: c' = round(c·α / 255).
    static func makeSurface(from image: RGBAImage) throws -> OpaquePointer {
        let surface = try makeImageSurface(width: image.width, height: image.height)
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let base = UnsafeMutableRawPointer(cairo_image_surface_get_data(surface)!)
        image.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<image.height {
                let row = (base + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<image.width {
                    let offset = 4 * (y * image.width + x)
                    let alpha = UInt32(pixels[offset + 3])
                    func premultiplied(_ value: UInt8) -> UInt32 { (UInt32(value) * alpha + 127) / 255 }
                    row[x] = alpha << 24 | premultiplied(pixels[offset]) << 16
                        | premultiplied(pixels[offset + 1]) << 8 | premultiplied(pixels[offset + 2])
                }
            }
        }
        cairo_surface_mark_dirty(surface)
        return surface
    }

    /// The pixels of an ARGB32 image surface, un-premultiplied: c = round(c'·255 / α).
    static func image(of surface: OpaquePointer) -> RGBAImage {
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface))
        let height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let base = UnsafeRawPointer(cairo_image_surface_get_data(surface)!)
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for y in 0..<height {
            let row = (base + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let value = row[x]
                let alpha = value >> 24
                let offset = 4 * (y * width + x)
                pixels[offset + 3] = UInt8(alpha)
                guard alpha > 0 else { continue }
                func straight(_ shift: UInt32) -> UInt8 {
                    UInt8(min(255, (((value >> shift) & 0xFF) * 255 + alpha / 2) / alpha))
                }
                pixels[offset] = straight(16)
                pixels[offset + 1] = straight(8)
                pixels[offset + 2] = straight(0)
            }
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }

    // MARK: - Text

    static func selectFont(_ context: OpaquePointer, size: Double) {
        cairo_select_font_face(context, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    static func advance(of string: String, in context: OpaquePointer) -> Double {
        var extents = cairo_text_extents_t()
        string.withCString { cairo_text_extents(context, $0, &extents) }
        return extents.x_advance
    }

    /// How wide `string` is, in pixels, at font size `size`: for laying out before drawing.
    static func textWidth(_ string: String, size: Double) -> Double {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
        defer { cairo_surface_destroy(surface) }
        let context = cairo_create(surface)!
        defer { cairo_destroy(context) }
        selectFont(context, size: size)
        return advance(of: string, in: context)
    }

    // MARK: - Errors

    static func check(_ status: cairo_status_t, _ what: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else { throw error(status, what) }
    }

    static func error(_ status: cairo_status_t, _ what: String) -> CNNVizError {
        CNNVizError(.invalidArgument, "\(what): Cairo says \"\(String(cString: cairo_status_to_string(status)))\"")
    }
}
