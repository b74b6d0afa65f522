import CCairo
import CNNVizImaging
import CNNVizRuntime
import Foundation

/// The file formats a `Picture` can be written in, each through Cairo.
///
/// - `png`: the picture rasterised on an ARGB32 image surface by Cairo and written by libpng
///   (`PNGEncoder`, zlib level 1): 8-bit RGB when every pixel is opaque, else RGBA
///   (non-premultiplied).
/// - `pdf`, `svg`: Cairo's own vector surfaces, one page of width × height points (PDF) or
///   pixels (SVG). Images inside them stay rasters, marked for nearest-neighbour scaling.
public enum OutputFormat: String, CaseIterable, Sendable {
    case png, pdf, svg

    /// The file name extension, without the dot.
    public var fileExtension: String { rawValue }

    /// Formats from a comma-separated list such as "png,pdf,svg".
    public static func list(_ text: String) throws -> [OutputFormat] {
        try text.split(separator: ",").map { item in
            let name = item.trimmingCharacters(in: .whitespaces).lowercased()
            guard let format = OutputFormat(rawValue: name) else {
                throw CNNVizError(.invalidArgument, "unknown picture format '\(name)'; use png, pdf or svg (comma-separated)")
            }
            return format
        }
    }
}

extension Picture {
    /// The picture encoded as `format`.
    public func encoded(as format: OutputFormat) throws -> Data {
        let sink = CairoDataSink()
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        switch format {
        case .png:
            // Rasterised by Cairo, deflated by libpng at a fast level (`PNGEncoder`); an opaque
            // picture is written as RGB, a quarter smaller than RGBA.
            let image = try rendered()
            var opaque = true
            for index in stride(from: 3, to: image.pixels.count, by: 4) where image.pixels[index] != 255 {
                opaque = false
                break
            }
            if opaque { return try PNGEncoder.encode(image.composited()) }
            return try PNGEncoder.encode(pixels: image.pixels, width: image.width, height: image.height, channels: 4)
        case .pdf, .svg:
            let surface: OpaquePointer
            if format == .pdf {
                surface = cairo_pdf_surface_create_for_stream(cairoAppend, closure, Double(width), Double(height))
            } else {
                surface = cairo_svg_surface_create_for_stream(cairoAppend, closure, Double(width), Double(height))
                cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
            }
            defer { cairo_surface_destroy(surface) }
            try CairoCanvas.check(cairo_surface_status(surface), "cannot create a \(format.rawValue.uppercased()) surface")
            try CairoCanvas(surface: surface).draw(self)
            cairo_surface_finish(surface)
            try CairoCanvas.check(cairo_surface_status(surface), "cannot finish the \(format.rawValue.uppercased()) document")
        }
        let data = withExtendedLifetime(sink) { sink.data }
        return format == .svg ? Picture.pixelated(svg: data) : data
    }

    /// Cairo 1.16's SVG surface drops the nearest-neighbour filter (its PDF surface keeps it as
    /// `/Interpolate false`), so viewers would blur a 3×3 filter scaled ×11 into a smudge.
    /// Every image in a picture is meant to be nearest-neighbour, so the root element is
    /// given `image-rendering`, which SVG images inherit.
    static func pixelated(svg data: Data) -> Data {
        guard var text = String(data: data, encoding: .utf8), let root = text.range(of: "<svg ") else { return data }
        text.replaceSubrange(root, with: "<svg image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" ")
        return Data(text.utf8)
    }

    /// Writes the picture once per format, to `base` with each format's extension
    /// (`base.png`, `base.pdf`, …), atomically: a failed write leaves no partial file and
    /// throws `.writeFailed` naming the path. Returns the files written, in `formats` order.
    /// `encoded` gives bytes already encoded for a format (a PNG also embedded in a page), so
    /// that they are not encoded twice.
    @discardableResult
    public func write(to base: URL, formats: [OutputFormat], encoded known: [OutputFormat: Data] = [:]) throws -> [URL] {
        var written: [URL] = []
        for format in formats {
            let url = base.pathExtension.lowercased() == format.fileExtension
                ? base : base.appendingPathExtension(format.fileExtension)
            let data: Data
            do { data = try known[format] ?? encoded(as: format) } catch let error as CNNVizError {
                throw CNNVizError(.writeFailed, "cannot draw the picture as \(format.rawValue.uppercased()): \(error.message)",
                                  location: url.path, cause: error)
            }
            try AtomicFile.write(data, to: url)
            written.append(url)
        }
        return written
    }

    /// Writes the picture to `url` in the format its extension names (.png, .pdf or .svg).
    public func write(to url: URL) throws {
        guard let format = OutputFormat(rawValue: url.pathExtension.lowercased()) else {
            throw CNNVizError(.writeFailed, "unknown picture format \"\(url.pathExtension)\"; use .png, .pdf or .svg",
                              location: url.path)
        }
        try write(to: url, formats: [format])
    }
}

/// Collects the bytes a Cairo stream surface or PNG writer produces.
final class CairoDataSink {
    var data = Data()
}

/// Cairo's write callback: appends to the `CairoDataSink` passed as the closure pointer.
private func cairoAppend(_ closure: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ count: UInt32) -> cairo_status_t {
    guard let closure else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<CairoDataSink>.fromOpaque(closure).takeUnretainedValue()
    if let bytes, count > 0 { sink.data.append(bytes, count: Int(count)) }
    return CAIRO_STATUS_SUCCESS
}
