import CNNVizRuntime

extension Preprocessing {
    /// The image as a [1, C, H, W] Float32 tensor (see the type's formula).
    ///
    /// Throws `.invalidArgument` for settings that cannot work (see `validate()`) and for a crop
    /// larger than the resized image; `.limitExceeded` for a resize beyond
    /// `ImageSizeLimit.default` (a 1×20000 strip with its short side resized to 256 would be
    /// 256×5 120 000).
    public func tensor(from image: RGBImage) throws -> Tensor {
        let size = try outputSize(forImage: ImageSize(width: image.width, height: image.height))
        var picture = channels == .gray ? Self.luma(image) : image
        if let resized = try resizedSize(of: ImageSize(width: image.width, height: image.height)) {
            picture = ImageResampling.bilinear(picture, width: resized.width, height: resized.height)
        }
        if let crop { picture = ImageResampling.centreCrop(picture, width: crop.width, height: crop.height) }
        precondition(picture.width == size.width && picture.height == size.height)
        return normalised(picture)
    }

    /// Throws `.invalidArgument` naming the field when the settings cannot work: a size or crop
    /// below 1, a mean or std with neither 1 nor C values, a std of 0, a non-finite number.
    public func validate() throws {
        func fail(_ message: String) -> CNNVizError {
            CNNVizError(.invalidArgument, "preprocessing '\(name)': \(message)")
        }
        switch resize {
        case .none: break
        case .shortSide(let side): guard side >= 1 else { throw fail("the resize side (--size) must be at least 1, found \(side)") }
        case .exact(let size):
            guard size.width >= 1, size.height >= 1 else { throw fail("the resize size (--size) must be at least 1×1, found \(size)") }
        }
        if let crop, crop.width < 1 || crop.height < 1 { throw fail("the crop (--crop) must be at least 1×1, found \(crop)") }
        for (field, values) in [("mean", mean), ("std", std)] {
            guard values.count == 1 || values.count == channels.count else {
                throw fail("\(field) (--\(field)) has \(values.count) values \(values); expected 1 or \(channels.count) (one per \(channels.rawValue.uppercased()) channel)")
            }
            guard values.allSatisfy(\.isFinite) else { throw fail("\(field) (--\(field)) \(values) must be finite numbers") }
        }
        guard !std.contains(0) else { throw fail("std (--std) \(std) must not contain 0 (it divides)") }
        guard scale.isFinite else { throw fail("scale (--scale) must be a finite number, found \(scale)") }
    }

    /// The tensor's H × W for an image of `image` pixels, after checking the settings.
    public func outputSize(forImage image: ImageSize) throws -> ImageSize {
        try validate()
        let resized = try resizedSize(of: image) ?? image
        guard let crop else { return resized }
        guard crop.width <= resized.width, crop.height <= resized.height else {
            throw CNNVizError(.invalidArgument, "preprocessing '\(name)': the crop (--crop) \(crop) is larger than the \(resized) image "
                              + "it is taken from (\(image) after \(resize)); resize to at least the crop size")
        }
        return crop
    }

    /// The size after `resize`, or nil when it does not resize.
    func resizedSize(of image: ImageSize) throws -> ImageSize? {
        let size: ImageSize
        switch resize {
        case .none: return nil
        case .exact(let exact): size = exact
        case .shortSide(let side):
            // torchvision: new_long = int(side · long / short); the Caffe pipeline rounds instead,
            // half to even as Python's round() does.
            let short = min(image.width, image.height), long = max(image.width, image.height)
            let ratio = Double(side) * Double(long) / Double(short)
            let scaledLong = Int(min(roundsLongSide ? ratio.rounded(.toNearestOrEven) : ratio.rounded(.towardZero), Double(Int32.max)))
            size = image.width <= image.height ? ImageSize(width: side, height: scaledLong) : ImageSize(width: scaledLong, height: side)
        }
        try ImageSizeLimit.default.check(width: size.width, height: size.height,
                                         subject: "preprocessing '\(name)' (\(resize)) would turn the \(image) image into",
                                         remedy: "crop the image closer to square first, or resize it to an exact size (--size W×H)")
        return size
    }

    /// Pillow's convert("L"), kept as three equal channels so that resizing stays shared.
    static func luma(_ image: RGBImage) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            let l = (19595 * Int(image.pixels[i]) + 38470 * Int(image.pixels[i + 1]) + 7471 * Int(image.pixels[i + 2]) + 0x8000) >> 16
            pixels[i] = UInt8(l)
            pixels[i + 1] = UInt8(l)
            pixels[i + 2] = UInt8(l)
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// (p·scale − mean[c]) / std[c] per channel, in the order `channels` gives.
    func normalised(_ image: RGBImage) -> Tensor {
        let (w, h) = (image.width, image.height), plane = w * h
        let sources: [Int] = switch channels { case .rgb: [0, 1, 2]; case .bgr: [2, 1, 0]; case .gray: [0] }
        var values = [Float](repeating: 0, count: sources.count * plane)
        for (c, source) in sources.enumerated() {
            let m = mean.count == 1 ? mean[0] : mean[c], s = std.count == 1 ? std[0] : std[c]
            for i in 0..<plane { values[c * plane + i] = (Float(image.pixels[3 * i + source]) * scale - m) / s }
        }
        return Tensor(shape: [1, sources.count, h, w], floats: values)
    }
}
