import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime
import Foundation

/// The target options of `gradcam` and `saliency`: what scalar of the model is explained.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: "The tensor to explain (a graph output or any intermediate tensor). Default: the logits before the Softmax of the first output that ends in one, else the first output.")
    var output: String?

    @Option(name: .customLong("class"), help: "A class index or label name; a comma list gives one per image; repeatable for several maps.")
    var classes: [String] = []

    @Option(name: .long, help: "The class axis of the target tensor (2 for a sequence recogniser's [N, T, C]).")
    var classAxis: Int = 1

    @Option(name: .long, help: "Explain the top K classes of each image along the class axis (default 1, when no --class is given); above 20 needs --force.")
    var top: Int?

    @Flag(name: .long, help: "Allow --top above 20 (each class writes its own maps and pictures).")
    var force = false

    @Flag(name: .long, help: "Explain the probability after the output's Softmax instead of the logit before it.")
    var probability = false

    @Option(name: .long, help: "A region of a dense [N, C, H, W] output: a mask PNG at the input's size (white = in), or 'predicted'.")
    var mask: String?

    @Option(name: .long, help: "x0,y0,x1,y1 in input pixels: a region of a dense output, or the best-overlapping box of a raw detector head.")
    var box: String?

    @Option(name: .long, help: "The k-th best detection of a raw detector head (1 is the best).")
    var detection: Int?

    @Option(name: .long, help: "Detector head layout: yolov5 ([N, A, 5+C], with objectness) or yolov8 ([N, 4+C, A]). Default: from the shape.")
    var detectionLayout: String?

    @Option(name: .long, help: "One element of the target tensor by index, without the batch axis: e.g. 7,42 for timestep 7, character 42.")
    var index: String?

    @Option(name: .long, help: "Similarity to a reference embedding: a .npy, or an image run through the same model.")
    var similarTo: String?

    @Option(name: .long, help: "Similarity measure for --similar-to: cosine or dot.")
    var similarity: String = "cosine"

    @Option(name: .long, help: "Seed the target tensor with this .npy cotangent (one item's shape, or the tensor's).")
    var cotangent: String?

    func validate() throws {
        guard top.map({ $0 >= 1 }) ?? true else { throw ValidationError("--top must be at least 1") }
        if let top, top > TargetOptions.topWithoutForce, !force {
            throw ValidationError("--top \(top) writes \(top) maps, pictures and HTML figures per image; add --force to confirm, or ask for at most \(TargetOptions.topWithoutForce)")
        }
        guard classes.isEmpty || top == nil else { throw ValidationError("--class and --top exclude each other") }
        guard classAxis >= 1 else { throw ValidationError("--class-axis must be 1 or more (axis 0 is the batch)") }
        guard detection.map({ $0 >= 1 }) ?? true else { throw ValidationError("--detection counts from 1 (the best detection)") }
        guard detectionLayout.map({ DetectionTarget.Layout(rawValue: $0) != nil }) ?? true else {
            throw ValidationError("--detection-layout must be yolov5 or yolov8, found '\(detectionLayout!)'")
        }
        guard SimilarityTarget.Measure(rawValue: similarity) != nil else { throw ValidationError("--similarity must be cosine or dot") }
        if let box { _ = try TargetOptions.numbers(box, count: 4, option: "--box") }
        if let index { _ = try TargetOptions.numbers(index, count: nil, option: "--index") }
        let kinds = [mask != nil, index != nil, similarTo != nil, cotangent != nil, detection != nil].filter { $0 }.count
        guard kinds <= 1 else { throw ValidationError("give at most one of --mask, --index, --similar-to, --cotangent and --detection") }
    }

    /// The largest --top that needs no --force.
    static let topWithoutForce = 20

    /// Whether any option names a target (`--top` alone does not).
    var isGiven: Bool {
        output != nil || !classes.isEmpty || probability || mask != nil || box != nil || detection != nil || index != nil
            || similarTo != nil || cotangent != nil
    }

    /// Comma-separated numbers, `count` of them when given.
    static func numbers(_ text: String, count: Int?, option: String) throws -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ $0 != nil && $0!.isFinite }), count.map({ values.count == $0 }) ?? !values.isEmpty else {
            throw ValidationError("\(option) expects \(count.map { "\($0) " } ?? "")comma-separated numbers, found '\(text)'")
        }
        return values.map { $0! }
    }

    /// The choice as a library value: files read, a similar-to image run through the model.
    func choice(session: Session, preprocessing: PreprocessOptions, labels: String?) throws -> TargetChoice {
        var choice = TargetChoice()
        choice.output = output
        choice.probability = probability
        choice.classes = classes
        choice.synsets = try labels.map { try ClassLabels.synsets(contentsOf: URL(fileURLWithPath: $0)) } ?? []
        choice.classAxis = classAxis
        choice.top = top ?? 1
        choice.box = try box.map { try TargetOptions.numbers($0, count: 4, option: "--box") }
        choice.index = try index.map { try TargetOptions.numbers($0, count: nil, option: "--index").map { Int($0) } }
        choice.detectionRank = detection.map { $0 - 1 }
        choice.detectionLayout = detectionLayout.flatMap(DetectionTarget.Layout.init(rawValue:))
        choice.similarity = SimilarityTarget.Measure(rawValue: similarity)!
        if let cotangent { choice.cotangent = try NumpyFile.read(contentsOf: URL(fileURLWithPath: cotangent)) }
        if let mask {
            if mask == "predicted" {
                choice.mask = .predicted
            } else {
                let image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: mask))
                let weights = (0..<(image.width * image.height)).map { i -> Float in
                    let sum = Int(image.pixels[3 * i]) + Int(image.pixels[3 * i + 1]) + Int(image.pixels[3 * i + 2])
                    return sum >= 3 * 128 ? 1 : 0
                }
                choice.mask = .pixels(weights, height: image.height, width: image.width)
            }
        }
        if let similarTo {
            let tensor = try choice.tensor(in: session)
            if similarTo.hasSuffix(".npy") {
                choice.similarTo = try NumpyFile.read(contentsOf: URL(fileURLWithPath: similarTo)).floats
            } else {
                let input = try preprocessing.tensor(image: similarTo, tensor: nil, session: session)
                choice.similarTo = try session.run([session.graph.inputs[0].name: input], outputs: [tensor])[tensor]!.floats
            }
        }
        return choice
    }
}
