import ArgumentParser
import CNNVizImaging
import CNNVizRuntime
import Foundation

/// `--preprocess` and its overrides, shared by the commands that read images.
struct PreprocessOptions: ParsableArguments {
    @Option(name: .long, help: "Preprocessing preset: imagenet (torchvision), caffe (BGR 0–255 minus the mean), mnist (gray 28×28), cifar (32×32, CIFAR statistics), inception (299 crop, −1…1) or none. Default: what the model declares in its metadata, else mnist for one-channel models and imagenet for others (said on stderr).")
    var preprocess: String?

    @Flag(name: .long, help: "Resize the whole image to the model's input H×W: no crop, aspect ratio not kept.")
    var resizeOnly = false

    @Option(name: .long, help: "Override the resize: N (short side) or WxH.")
    var size: String?

    @Option(name: .long, help: "Override the centre crop: N or WxH.")
    var crop: String?

    @Option(name: .long, help: "Override the per-channel mean, e.g. 0.485,0.456,0.406.")
    var mean: String?

    @Option(name: .long, help: "Override the per-channel std, e.g. 0.229,0.224,0.225.")
    var std: String?

    @Flag(name: .long, help: "Feed BGR channel order.")
    var bgr = false

    @Option(name: .long, help: "Override the pixel scale, e.g. 1/255 or 1.")
    var scale: String?

    /// The preset with the overrides applied.
    func preprocessing(for session: Session) throws -> Preprocessing {
        guard !session.graph.inputs.isEmpty else {
            throw CNNVizError(.invalidModel, "the model has no inputs", location: session.model.source)
        }
        let base: Preprocessing
        if let preprocess {
            base = try Preprocessing.preset(named: preprocess)
        } else if let declared = try ModelMetadata.preprocessing(of: session.model) {
            base = declared
        } else {
            base = try Preprocessing.modelDefault(for: session.model)
            PreprocessOptions.noteAssumed(base)
        }
        var result = try base.overridden(size: size, crop: crop, mean: mean, std: std, bgr: bgr, scale: scale)
        if resizeOnly {
            let input = session.graph.inputs[0]
            guard let shape = input.shape, shape.count == 4, let height = shape[2], let width = shape[3] else {
                throw CNNVizError(.invalidArgument, "--resize-only resizes to the model's input size, and input '\(input.name)' declares no fixed H×W "
                                  + "(\(input.shapeDescription)); give --size W×H instead", location: session.model.source)
            }
            result.resize = .exact(ImageSize(width: width, height: height))
            result.crop = nil
        }
        return result
    }

    nonisolated(unsafe) private static var assumedWasNoted = false

    /// One line on stderr, once per run: a model without declared preprocessing gets a guess
    /// (Caffe-trained SqueezeNet fed ImageNet inputs answers "mosquito net" without a word).
    static func noteAssumed(_ preset: Preprocessing) {
        guard !assumedWasNoted else { return }
        assumedWasNoted = true
        FileHandle.standardError.write(Data("note: the model declares no preprocessing; assuming --preprocess \(preset.name) (\(preset)); give --preprocess to choose\n".utf8))
    }

    func validate() throws {
        guard !resizeOnly || (size == nil && crop == nil) else { throw ValidationError("--resize-only sets the size itself; drop --size and --crop") }
    }

    /// The decoded, preprocessed image, checked against the model's declared input; or the
    /// .npy tensor as given, in the model's own layout (an NHWC model's [N, H, W, C] tensor is
    /// turned to the [N, C, H, W] that its channels-first session takes).
    func tensor(image: String?, tensor: String?, session: Session) throws -> Tensor {
        if let tensor {
            let values = try NumpyFile.read(contentsOf: URL(fileURLWithPath: tensor))
            if let input = session.graph.inputs.first {
                try PreprocessOptions.checkTensor(values, file: tensor, against: input, of: session.model.source, channelsLast: session.model.hasChannelsFirstAdapter)
            }
            guard session.model.hasChannelsFirstAdapter, values.rank == 4 else { return values }
            guard let channels = session.graph.inputs[0].shape?[1] ?? nil, values.shape[3] == channels else {
                throw CNNVizError(.shapeMismatch, "the model takes [N, H, W, C] tensors and \(tensor) has shape \(values.shape)", location: tensor)
            }
            return values.channelsFirst()
        }
        return try self.tensor(from: try decode(image!), path: image!, session: session)
    }

    /// The image file, decoded.
    func decode(_ path: String) throws -> RGBImage {
        try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path))
    }

    /// A decoded image, preprocessed and checked against the model's input; errors name `path`.
    func tensor(from decoded: RGBImage, path: String, session: Session) throws -> Tensor {
        let preprocessing = try preprocessing(for: session)
        do {
            return try preprocessing.tensor(from: decoded, for: session.graph.inputs[0])
        } catch let error as CNNVizError {
            throw error.location == nil ? error.located(at: path) : error
        }
    }
}

extension PreprocessOptions {
    /// A `--tensor` against the model's input, so that a mismatch names the file: rank, the
    /// fixed dims (batch excepted), a non-empty batch, and a floating-point type.
    static func checkTensor(_ tensor: Tensor, file: String, against input: ValueInfo, of model: String, channelsLast: Bool, numeric: Bool = false) throws {
        var declared = input.shape
        if channelsLast, let shape = declared, shape.count == 4 { declared = [shape[0], shape[2], shape[3], shape[1]] }
        let expected = declared.map { "[" + $0.map { $0.map(String.init) ?? "?" }.joined(separator: ",") + "]" } ?? "the model's input shape"
        // An image model takes floats; `run` takes whatever kind the input declares.
        guard numeric ? tensor.isFloatingPoint == input.elementType.isFloatingPoint : tensor.isFloatingPoint else {
            throw CNNVizError(.unsupportedDataType, "--tensor \(file) holds \(tensor.elementType); \(model)'s input '\(input.name)' takes \(input.elementType)", location: file)
        }
        if let declared {
            let fits = declared.count == tensor.rank && zip(declared, tensor.shape).enumerated().allSatisfy { $0.offset == 0 || $0.element.0 == nil || $0.element.0 == $0.element.1 }
            guard fits else {
                throw CNNVizError(.shapeMismatch, "--tensor \(file) has shape \(tensor.shape); \(model)'s input '\(input.name)' expects \(expected)", location: file)
                    .with(file: file, tensor: input.name, expectedShape: declared, foundShape: tensor.shape)
            }
        }
        guard tensor.count > 0 || numeric else {
            throw CNNVizError(.shapeMismatch, "--tensor \(file) has shape \(tensor.shape): it holds no values", location: file)
        }
    }
}
