import CNNVizRuntime
import Foundation

extension Preprocessing {
    /// This preprocessing with the command line's overrides applied, each given as its text
    /// (nil leaves the field as it is):
    /// - `size`: "256" resizes the short side to 256; "W×H" or "WxH" resizes to exactly W × H;
    ///   "none" keeps the image's size.
    /// - `crop`: "224" or "W×H"; "none" keeps the whole resized image.
    /// - `mean`, `std`: "0.485,0.456,0.406", or one value for every channel.
    /// - `bgr`: true orders the channels B, G, R (refused for a gray preprocessing).
    /// - `scale`: a number or a fraction, "1/255".
    /// Throws `.invalidArgument` naming the option and the text it could not use.
    public func overridden(size: String? = nil, crop: String? = nil, mean: String? = nil, std: String? = nil,
                           bgr: Bool = false, scale: String? = nil) throws -> Preprocessing {
        var result = self
        if let size {
            if size == "none" { result.resize = .none } else if let side = Int(size) { result.resize = .shortSide(side) } else {
                result.resize = .exact(try Self.parseSize(size, option: "--size"))
                // An exact W×H is the size wanted: the preset's crop would cut into it.
                if crop == nil { result.crop = nil }
            }
        }
        if let crop { result.crop = crop == "none" ? nil : try Self.parseSize(crop, option: "--crop") }
        if let mean { result.mean = try Self.parseValues(mean, option: "--mean") }
        if let std { result.std = try Self.parseValues(std, option: "--std") }
        if bgr {
            guard channels != .gray else {
                throw CNNVizError(.invalidArgument, "--bgr asks for BGR order, but preprocessing '\(name)' is gray (one channel)")
            }
            result.channels = .bgr
        }
        if let scale { result.scale = try Self.parseScale(scale) }
        try result.validate()
        return result
    }

    /// "224" (a square), "224x160" or "224×160" (width × height).
    public static func parseSize(_ text: String, option: String) throws -> ImageSize {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "x" || $0 == "×" || $0 == "X" }).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        switch (parts.count, parts.first ?? nil, parts.last ?? nil) {
        case (1, let side?, _): return ImageSize(side)
        case (2, let width?, let height?): return ImageSize(width: width, height: height)
        default:
            throw CNNVizError(.invalidArgument, "\(option) '\(text)' is not a size; expected N (a square, or the short side for --size) or W×H, e.g. 224x224")
        }
    }

    /// Comma-separated numbers.
    static func parseValues(_ text: String, option: String) throws -> [Float] {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw CNNVizError(.invalidArgument, "\(option) '\(text)' is not a list of numbers; expected e.g. 0.485,0.456,0.406 or one number")
        }
        return values.compactMap { $0 }
    }

    /// A number or a fraction a/b.
    static func parseScale(_ text: String) throws -> Float {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        switch (parts.count, parts.first ?? nil, parts.last ?? nil) {
        case (1, let value?, _): return Float(value)
        case (2, let numerator?, let denominator?) where denominator != 0: return Float(numerator / denominator)
        default: throw CNNVizError(.invalidArgument, "--scale '\(text)' is not a number; expected e.g. 1, 0.00392 or 1/255")
        }
    }
}
