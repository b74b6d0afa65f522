import CNNVizRuntime
import Foundation

/// A dataset item's ground-truth region (a manifest's box or mask) as a plane of the model's
/// input, for region targets and for the localisation scores (`AttributionScores`).
///
/// The region is first a 0/1 plane at the photo's size: a pixel is in a box x0, y0, x1, y1
/// when its centre (x + ½, y + ½) lies inside; in a mask image (the photo's size) when its
/// R + G + B ≥ 3 · 128. The plane then goes through the preprocessing's own resize and crop
/// (`PreprocessingGeometry.toModel`), and a model pixel is in when its weight is ≥ ½.
/// Pitfall: a region the crop cuts away is empty at the model's size; `plane` then returns an
/// all-false plane, whose pointing game is always a miss.
public enum GroundTruthMask {
    /// The region at the model's size (row-major), or nil when the item has neither a box
    /// nor a mask. `geometry` is nil for a tensor input: the box and mask are then in the
    /// model's pixels already. Throws, naming the mask file, when it cannot be read or its
    /// size is not the photo's.
    public static func plane(box: [Double]?, maskFile: String?, original: ImageSize, model: ImageSize,
                             geometry: PreprocessingGeometry?) throws -> [Bool]? {
        let size = geometry == nil ? model : original
        var weights: [Float]
        if let maskFile {
            let mask = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: maskFile))
            guard mask.width == size.width, mask.height == size.height else {
                throw CNNVizError(.shapeMismatch, "the mask is \(mask.width)×\(mask.height) but its image is \(size)", location: maskFile)
            }
            weights = (0..<(size.width * size.height)).map { (i: Int) -> Float in
                let sum: Int = Int(mask.pixels[3 * i]) + Int(mask.pixels[3 * i + 1]) + Int(mask.pixels[3 * i + 2])
                return sum >= 3 * 128 ? 1 : 0
            }
        } else if let box {
            weights = [Float](repeating: 0, count: size.width * size.height)
            for y in 0..<size.height where Double(y) + 0.5 >= box[1] && Double(y) + 0.5 < box[3] {
                for x in 0..<size.width where Double(x) + 0.5 >= box[0] && Double(x) + 0.5 < box[2] {
                    weights[y * size.width + x] = 1
                }
            }
        } else {
            return nil
        }
        if let geometry { weights = try geometry.toModel(weights) }
        return weights.map { $0 >= 0.5 }
    }

    /// The smallest box x0, y0, x1, y1 (in model pixels, x1 and y1 exclusive) holding every
    /// pixel of `plane`; nil for an empty plane.
    public static func boundingBox(of plane: [Bool], width: Int) -> [Double]? {
        var (x0, y0, x1, y1) = (Int.max, Int.max, -1, -1)
        for (index, inside) in plane.enumerated() where inside {
            let (y, x) = index.quotientAndRemainder(dividingBy: width)
            (x0, y0, x1, y1) = (min(x0, x), min(y0, y), max(x1, x), max(y1, y))
        }
        return x1 < 0 ? nil : [Double(x0), Double(y0), Double(x1 + 1), Double(y1 + 1)]
    }
}
