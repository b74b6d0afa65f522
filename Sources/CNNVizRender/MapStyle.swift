import CNNVizImaging
import CNNVizRuntime

/// How an attribution picture turns a map into colours: pytorch-grad-cam's overlay for the
/// CAM family, Captum's `visualize_image_attr` for the gradient family.
///
/// The picture is always drawn from `shown(_:)`, the one [H, W] plane that a user can re-plot:
/// - `.cam`: the map itself when it lies in [0, 1] (pytorch-grad-cam's maps do), else min-max
///   scaled into it (a `--keep-signed` map);
/// - `.captum`: `NormalizedAttribution`: channels summed, the sign selected, divided by the
///   cumulative-sum threshold that leaves `outlierPercent` % of the mass saturated; in
///   [−1, 1] for sign `all`, else [0, 1].
/// Pitfall: the Captum plane of sign `all` keeps negative evidence negative; a CAM plane has
/// none (the ReLU removed it), so the two styles are not interchangeable for one map.
public enum MapStyle: Sendable, Equatable {
    /// `show_cam_on_image`: heat = colormap(map), out = (1 − w)·heat + w·image, ÷ its max.
    case cam(colormap: Colormap, imageWeight: Float)
    /// Captum's view of the normalised map; `colormap` nil takes the sign's default.
    case captum(view: AttributionView, sign: AttributionSign, outlierPercent: Float, colormap: Colormap?)

    /// The plane the picture colours, for one map: [H, W] for `.cam`; [H, W], [C, H, W] or
    /// [1, C, H, W] for `.captum`.
    public func shown(_ map: Tensor) throws -> Tensor {
        switch self {
        case .cam:
            let plane = try MapPlane(map, name: "CAM", requireSingleChannel: true)
            let low = plane.values.min() ?? 0, high = plane.values.max() ?? 0
            let values = low >= 0 && high <= 1 ? plane.values : plane.values.map { high > low ? ($0 - low) / (high - low) : 0 }
            return Tensor(shape: [plane.height, plane.width], floats: values)
        case .captum(_, let sign, let outlierPercent, _):
            let normalized = try NormalizedAttribution(map, sign: sign, outlierPercent: outlierPercent)
            return Tensor(shape: [normalized.height, normalized.width], floats: normalized.values)
        }
    }

    /// Draws a plane from `shown(_:)` (or one mapped to another size) over `image`, of the same size.
    public func draw(_ shown: Tensor, on image: RGBImage) throws -> RGBAImage {
        switch self {
        case .cam(let colormap, let imageWeight):
            return RGBAImage(try Overlay.cam(shown, on: image, colormap: colormap, imageWeight: imageWeight))
        case .captum(let view, let sign, _, let colormap):
            let plane = try MapPlane(shown, name: "attribution", requireSingleChannel: true)
            let normalized = NormalizedAttribution(width: plane.width, height: plane.height, values: plane.values, sign: sign)
            return try Overlay.attribution(normalized, on: image, view: view, colormap: colormap)
        }
    }

    /// The colour bar beside the picture: 0…1, or −1…1 with signed ticks for sign `all`;
    /// nil for views that show no colours (masked image, alpha scaling, the original image).
    public var colorBar: ColorBar? {
        switch self {
        case .cam(let colormap, _): return ColorBar(colormap: colormap)
        case .captum(let view, let sign, _, let colormap):
            switch view {
            case .heatMap, .blendedHeatMap:
                return ColorBar(colormap: colormap ?? sign.defaultColormap, range: sign.range, tickCount: sign == .all ? 5 : 3)
            case .maskedImage, .alphaScaling, .originalImage: return nil
            }
        }
    }

    /// What a caption says of the style: "sign all, 2% outliers clipped"; nil for `.cam`.
    public var summary: String? {
        switch self {
        case .cam: return nil
        case .captum(_, let sign, let outlierPercent, _):
            return "sign \(sign.rawValue), \(Caption.formatted(outlierPercent))% outliers clipped"
        }
    }
}
