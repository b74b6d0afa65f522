import CNNVizRuntime

extension Preprocessing {
    /// Checks that this preprocessing can feed the model input `input` before any image is
    /// read: a floating-point NCHW input of rank 4, whose declared channel count is this one's
    /// and whose declared H × W (when fixed) this one produces for every image, through `crop`
    /// or an exact `resize`. Unknown (symbolic) dimensions are not checked.
    /// Throws `.shapeMismatch` saying what the model expects and which setting gives it.
    public func check(against input: ValueInfo) throws {
        try check(against: input, size: fixedOutputSize)
    }

    /// `tensor(from:)`, after checking it against the model input `input` (see
    /// `check(against:)`) with the size that this image gets.
    public func tensor(from image: RGBImage, for input: ValueInfo) throws -> Tensor {
        try check(against: input, size: outputSize(forImage: ImageSize(width: image.width, height: image.height)))
        return try tensor(from: image)
    }

    /// The H × W that every image gets, or nil when it depends on the image.
    public var fixedOutputSize: ImageSize? {
        if let crop { return crop }
        if case .exact(let size) = resize { return size }
        return nil
    }

    /// The check, with the output size known (nil: it depends on the image).
    func check(against input: ValueInfo, size: ImageSize?) throws {
        try validate()
        guard let shape = input.shape else { return }
        guard input.elementType.isFloatingPoint else {
            throw mismatch(input, "holds \(input.elementType) values, not floating-point pixels; an image cannot feed it")
        }
        guard shape.count == 4 else {
            throw mismatch(input, "has rank \(shape.count), not the rank-4 [N, C, H, W] of an image; feed it a tensor instead")
        }
        if let batch = shape[0], batch != 1 {
            throw mismatch(input, "takes a fixed batch of \(batch), and one image makes a batch of 1; stack \(batch) images into one tensor")
        }
        if let expected = shape[1], expected != channels.count {
            let fix = expected == 1 ? "--preprocess mnist (gray)"
                : expected == 3 ? "--preprocess imagenet (RGB) or --preprocess caffe (BGR)" : "--tensor X.npy instead of an image"
            throw mismatch(input, "expects \(expected) channel\(expected == 1 ? "" : "s") and preprocessing gives \(channels.count) "
                           + "(\(channels.rawValue.uppercased())); use \(fix)")
        }
        guard shape[2] != nil || shape[3] != nil else { return }
        guard let size else {
            throw mismatch(input, "expects \(Self.describe(height: shape[2], width: shape[3])) pixels, and preprocessing gives each "
                           + "image's own size after \(resize); add --resize-only (squash the whole image to the model's size)")
        }
        if let height = shape[2], height != size.height { throw sizeMismatch(input, shape, size) }
        if let width = shape[3], width != size.width { throw sizeMismatch(input, shape, size) }
    }

    func mismatch(_ input: ValueInfo, _ what: String) -> CNNVizError {
        CNNVizError(.shapeMismatch, "the model input '\(input.name)' \(input.shapeDescription) \(what) (preprocessing \(description))")
    }

    /// The mismatch with fixes that are whole options: the ImageNet recipe scaled to the
    /// model's side (short side ⌊N·256/224 + ½⌋, centre crop N) for a square input, and
    /// `--resize-only` (the whole image squashed to the model's size) for any.
    func sizeMismatch(_ input: ValueInfo, _ shape: [Int?], _ size: ImageSize) -> CNNVizError {
        var fixes = ["--resize-only (squash the whole image to the model's size)"]
        if let side = shape[2], shape[2] == shape[3] {
            let short = Int((Double(side) * 256 / 224).rounded())
            fixes.insert("--size \(short) --crop \(side) (resize the short side, keep the centre)", at: 0)
        }
        return mismatch(input, "expects \(Self.describe(height: shape[2], width: shape[3])) pixels and preprocessing gives "
                        + "\(size.width)×\(size.height); add " + fixes.joined(separator: ", or "))
    }

    static func describe(height: Int?, width: Int?) -> String {
        "\(width.map(String.init) ?? "any")×\(height.map(String.init) ?? "any")"
    }
}
