import CCairo
import CNNVizImaging

extension Picture {
    /// The picture rasterised, as the PNG writer sees it: RGBA, alpha not premultiplied.
    public func rendered() throws -> RGBAImage {
        let surface = try rasterSurface()
        defer { cairo_surface_destroy(surface) }
        return CairoCanvas.image(of: surface)
    }

    /// The picture rasterised and composited over `background` (white by default).
    public func renderedRGB(over background: RGBColor = .white) throws -> RGBImage {
        try rendered().composited(over: background)
    }

    /// A new ARGB32 image surface with the picture drawn on it; the caller destroys it.
    func rasterSurface() throws -> OpaquePointer {
        let surface = try CairoCanvas.makeImageSurface(width: width, height: height)
        do { try CairoCanvas(surface: surface).draw(self) } catch {
            cairo_surface_destroy(surface)
            throw error
        }
        return surface
    }
}
