import CNNVizImaging
import CNNVizRuntime

/// Heat maps blended over the image the model saw.
public enum Overlay {
    /// pytorch-grad-cam's `show_cam_on_image(img, mask, use_rgb=True, colormap, image_weight)`:
    ///
    ///     heat   = colormap[uint8(255·cam)] / 255          (float32, RGB)
    ///     img    = image / 255
    ///     result = (1 − w)·heat + w·img
    ///     result = result / max(result)                     (one max over all pixels and channels)
    ///     out    = uint8(255·result)                        (truncated)
    ///
    /// Pitfalls, all kept on purpose so the pixels match pytorch-grad-cam's:
    /// - the colormap index is truncated, not rounded (`Colormap.Quantization.truncating`);
    /// - the division by the max brightens the whole picture whenever no pixel reaches 1, so
    ///   the result is not a plain alpha blend;
    /// - the output is truncated to bytes, not rounded.
    /// The colours are RGB throughout (pytorch-grad-cam defaults to BGR, a known trap).
    /// Where the max is 0 (a black image under a black colour) the result stays black
    /// instead of NumPy's NaN.
    ///
    /// - Parameters:
    ///   - image: the image as the model saw it (after resizing and cropping), RGB.
    ///   - cam: the map in [0, 1], shaped [H, W], [1, H, W] or [N, 1, H, W], the image's size.
    ///     Values outside [0, 1] are clamped (NumPy would wrap them around).
    ///   - imageWeight: w in [0, 1]; 0.5 by default, as in pytorch-grad-cam.
    ///   - batchIndex: which item of an [N, 1, H, W] map.
    public static func cam(_ cam: Tensor, on image: RGBImage, colormap: Colormap = .jet,
                           imageWeight: Float = 0.5, batchIndex: Int = 0) throws -> RGBImage {
        guard imageWeight >= 0, imageWeight <= 1 else {
            throw CNNVizError(.invalidArgument, "the image weight must be in [0, 1], not \(imageWeight)")
        }
        let plane = try MapPlane(cam, name: "CAM", batchIndex: batchIndex, requireSingleChannel: true)
        try plane.requireSize(of: RGBImageSize(width: image.width, height: image.height), name: "CAM")
        let count = plane.width * plane.height
        var blended = [Float](repeating: 0, count: 3 * count)
        let heatWeight: Float = 1 - imageWeight
        var maximum: Float = 0
        for index in 0..<count {
            let entry = 3 * Colormap.index(for: plane.values[index], quantization: .truncating)
            for channel in 0..<3 {
                let heat = Float(colormap.table[entry + channel]) / 255
                let pixel = Float(image.pixels[3 * index + channel]) / 255
                let value = heatWeight * heat + imageWeight * pixel
                blended[3 * index + channel] = value
                maximum = max(maximum, value)
            }
        }
        var pixels = [UInt8](repeating: 0, count: 3 * count)
        if maximum > 0 {
            for index in 0..<(3 * count) {
                pixels[index] = UInt8(min(255, 255 * (blended[index] / maximum)))
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// A map in [0, 1] drawn through `colormap` alone, with no image under it. The index is
    /// round(255·v) unless `quantization` says otherwise.
    public static func heatMap(_ map: Tensor, colormap: Colormap = .jet,
                               quantization: Colormap.Quantization = .nearest, batchIndex: Int = 0) throws -> RGBImage {
        let plane = try MapPlane(map, name: "map", batchIndex: batchIndex, requireSingleChannel: true)
        var pixels = [UInt8](repeating: 0, count: 3 * plane.values.count)
        for (index, value) in plane.values.enumerated() {
            let entry = 3 * Colormap.index(for: value, quantization: quantization)
            pixels[3 * index] = colormap.table[entry]
            pixels[3 * index + 1] = colormap.table[entry + 1]
            pixels[3 * index + 2] = colormap.table[entry + 2]
        }
        return RGBImage(width: plane.width, height: plane.height, pixels: pixels)
    }
}
