import CNNVizImaging
import CNNVizRuntime

/// Captum's `visualize_image_attr` views, drawn to pixels instead of a matplotlib figure.
///
/// Every view first normalises the attribution (`NormalizedAttribution`: channels summed,
/// sign selected, divided by the 98th-percentile cumulative-sum threshold by default).
/// Colormaps are indexed as matplotlib does for floats, min(⌊256·x⌋, 255), after mapping
/// the sign's range [vmin, vmax] onto [0, 1].
public enum AttributionView: Sendable, Equatable {
    /// The normalised map through the colormap, no image.
    case heatMap
    /// The heat map with opacity `alpha` over the image in gray: the gray is the mean of R, G
    /// and B, stretched to its own min…max as `imshow(cmap="gray")` does (a constant image
    /// turns black), and out = α·heat + (1 − α)·gray, rounded. Captum's alpha is 0.5.
    case blendedHeatMap(alpha: Float)
    /// The image times the normalised map: out = clip(int(image · norm), 0, 255), truncated.
    /// Not for `.all`: a sign cannot be shown this way.
    case maskedImage
    /// The image with alpha = clip(int(255 · norm), 0, 255). Not for `.all`.
    case alphaScaling
    /// The image alone, as the model saw it (Captum's `original_image`).
    case originalImage

    /// Captum's blended heat map, alpha 0.5.
    public static let blendedHeatMap = AttributionView.blendedHeatMap(alpha: 0.5)

    /// Captum's `method` names, in its order.
    public static let captumNames = ["heat_map", "blended_heat_map", "masked_image", "alpha_scaling", "original_image"]

    /// The view Captum calls `name` (e.g. "blended_heat_map", with alpha 0.5), or nil.
    public init?(captumName name: String) {
        switch name {
        case "heat_map": self = .heatMap
        case "blended_heat_map": self = .blendedHeatMap
        case "masked_image": self = .maskedImage
        case "alpha_scaling": self = .alphaScaling
        case "original_image": self = .originalImage
        default: return nil
        }
    }
}

extension Overlay {
    /// Draws `attribution` (shaped [H, W], [C, H, W] or [N, C, H, W]; channels are summed)
    /// the way Captum's `visualize_image_attr(attr, image, method, sign, outlier_perc, cmap)`
    /// does. `image` is the image as the model saw it, the attribution's size; only
    /// `.heatMap` works without it. `colormap` defaults to Captum's per-sign default.
    public static func attribution(_ attribution: Tensor, on image: RGBImage?, view: AttributionView,
                                   sign: AttributionSign = .absoluteValue, outlierPercent: Float = 2,
                                   colormap: Colormap? = nil, batchIndex: Int = 0) throws -> RGBAImage {
        let normalized = try NormalizedAttribution(attribution, sign: sign, outlierPercent: outlierPercent,
                                                   batchIndex: batchIndex)
        return try Overlay.attribution(normalized, on: image, view: view, colormap: colormap)
    }

    /// Draws an already normalised attribution; see `attribution(_:on:view:sign:outlierPercent:colormap:batchIndex:)`.
    public static func attribution(_ normalized: NormalizedAttribution, on image: RGBImage?, view: AttributionView,
                                   colormap: Colormap? = nil) throws -> RGBAImage {
        let sign = normalized.sign
        let colormap = colormap ?? sign.defaultColormap
        let count = normalized.width * normalized.height
        if view == .originalImage, let image { return RGBAImage(image) }
        if view != .heatMap {
            guard let image else {
                throw CNNVizError(.invalidArgument, "the \(view) view draws over the image: pass the image the model saw")
            }
            let plane = MapPlane(width: normalized.width, height: normalized.height, values: normalized.values)
            try plane.requireSize(of: RGBImageSize(width: image.width, height: image.height), name: "attribution")
        }
        if sign == .all, view == .maskedImage || view == .alphaScaling {
            throw CNNVizError(.invalidArgument, "the \(view) view cannot show both signs; choose the positive, "
                                  + "negative or absolute-value sign (Captum refuses this too)")
        }
        let low = sign.range.lowerBound, span = sign.range.upperBound - sign.range.lowerBound
        func heat(_ index: Int) -> Int {
            3 * Colormap.index(for: (normalized.values[index] - low) / span, quantization: .matplotlib)
        }
        var pixels = [UInt8](repeating: 255, count: 4 * count)
        switch view {
        case .heatMap:
            for index in 0..<count {
                let entry = heat(index)
                for channel in 0..<3 { pixels[4 * index + channel] = colormap.table[entry + channel] }
            }
        case .blendedHeatMap(let alpha):
            guard alpha >= 0, alpha <= 1 else {
                throw CNNVizError(.invalidArgument, "the heat map's alpha must be in [0, 1], not \(alpha)")
            }
            let gray = grayStretched(image!)
            for index in 0..<count {
                let entry = heat(index)
                let level = Float(Colormap.gray.table[3 * gray[index]])
                for channel in 0..<3 {
                    let value = alpha * Float(colormap.table[entry + channel]) + (1 - alpha) * level
                    pixels[4 * index + channel] = UInt8(min(255, max(0, value.rounded())))
                }
            }
        case .maskedImage:
            for index in 0..<count {
                for channel in 0..<3 {
                    let value = Float(image!.pixels[3 * index + channel]) * normalized.values[index]
                    pixels[4 * index + channel] = UInt8(min(255, max(0, value.rounded(.towardZero))))
                }
            }
        case .alphaScaling:
            for index in 0..<count {
                for channel in 0..<3 { pixels[4 * index + channel] = image!.pixels[3 * index + channel] }
                pixels[4 * index + 3] = UInt8(min(255, max(0, (255 * normalized.values[index]).rounded(.towardZero))))
            }
        case .originalImage:
            break
        }
        return RGBAImage(width: normalized.width, height: normalized.height, pixels: pixels)
    }

    /// The image's gray levels as gray-colormap indices: g = mean(R, G, B), stretched by
    /// matplotlib's autoscaling (g − min) / (max − min) and indexed min(⌊256·x⌋, 255).
    /// A constant image maps to 0, as matplotlib's Normalize does when vmin = vmax.
    static func grayStretched(_ image: RGBImage) -> [Int] {
        let count = image.width * image.height
        var means = [Double](repeating: 0, count: count)
        for index in 0..<count {
            let sum = Int(image.pixels[3 * index]) + Int(image.pixels[3 * index + 1]) + Int(image.pixels[3 * index + 2])
            means[index] = Double(sum) / 3
        }
        guard let low = means.min(), let high = means.max(), high > low else {
            return [Int](repeating: 0, count: count)
        }
        // In Double, as matplotlib normalises float64 data; Float32 can tip ⌊256·x⌋ at a boundary.
        return means.map { min(Int(($0 - low) / (high - low) * 256), 255) }
    }
}
