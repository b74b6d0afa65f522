import CNNVizRuntime

/// What a user asked to explain, before it meets a model and an input: the command line's
/// target options as a library value. `resolve` turns it into target lists, one list per
/// explanation, each with one target for every image or one per image.
///
/// Precedence: a cotangent, a similarity, an element index, a detection (a box or a rank on a
/// rank-3 head), a region (a mask, or a box on a dense [N, C, H, W] output), then classes.
/// Without any of those the target is the top `top` classes of each image along the class
/// axis only, and a tensor with one value per image is taken whole.
public struct TargetChoice {
    /// The tensor the targets read (`--output`); nil means the default tensor.
    public var output: String?
    /// Target the probability after the output's Softmax instead of the logit before it.
    public var probability = false
    /// Class choices: each entry is an index or a name from `labels`; an entry with commas
    /// gives one class per image. Several entries explain several classes.
    public var classes: [String] = []
    /// The synset id of each label (`n02123045`), for `--class` by id; empty when unknown.
    public var synsets: [String?] = []
    public var classAxis = 1
    /// The top K classes per image, when no class is given.
    public var top = 1
    public var mask: MaskChoice?
    /// x0, y0, x1, y1 in input pixels.
    public var box: [Double]?
    public var index: [Int]?
    /// The k-th best detection (0 is the best).
    public var detectionRank: Int?
    public var detectionLayout: DetectionTarget.Layout?
    public var similarTo: [Float]?
    public var similarity = SimilarityTarget.Measure.cosine
    public var cotangent: Tensor?

    public enum MaskChoice {
        /// Weights at the input's resolution, [height, width] row-major.
        case pixels([Float], height: Int, width: Int)
        case predicted
    }

    public init() {}

    /// The tensor the targets read, resolved: `output`, or the logits before the Softmax of
    /// the first output that ends in one (that output itself with `probability`), else the
    /// first output.
    public func tensor(in session: Session) throws -> String {
        if let output { return try session.resolveTensorName(output) }
        let (output, logits) = try TargetSet.defaultOutput(session)
        return probability ? output : logits
    }

    /// The target lists for a batch of images `images` (their indices among every image of the
    /// run, for per-image class lists out of `totalImages`). `values` gives the target tensor
    /// for the batch, called only when a choice depends on the model's output (a box, top-k).
    public func resolve(session: Session, images: Range<Int>, totalImages: Int, labels: [String]?, inputSize: (height: Int, width: Int),
                        values: () throws -> Tensor) throws -> [[any AttributionTarget]] {
        let tensor = try self.tensor(in: session)
        if let cotangent { return [[CotangentTarget(cotangent, tensor: tensor)]] }
        if let similarTo { return [[SimilarityTarget(reference: similarTo, measure: similarity, tensor: tensor)]] }
        if let index { return [[ElementTarget(index, tensor: tensor)]] }
        let perImageClasses = try classes.map { try classList($0, images: images, totalImages: totalImages, labels: labels) }
        // The forward pass runs only for choices that read the output: a box (region or
        // detection, by the output's rank), top-k classes, a one-value output.
        var computed: Tensor?
        func y() throws -> Tensor {
            if let computed { return computed }
            let value = try values()
            computed = value
            return value
        }
        if try detectionRank != nil || (box != nil && y().rank == 3) {
            let selection: DetectionTarget.Selection = box.map { .overlapping(x0: Float($0[0]), y0: Float($0[1]), x1: Float($0[2]), y1: Float($0[3])) }
                ?? .rank(detectionRank!)
            guard !perImageClasses.isEmpty else { return [[DetectionTarget(selection, layout: detectionLayout, tensor: tensor)]] }
            return perImageClasses.map { $0.map { DetectionTarget(selection, class: $0, layout: detectionLayout, tensor: tensor) } }
        }
        let classLists = perImageClasses.isEmpty ? try topClasses(try y(), images: images.count, tensor: tensor) : perImageClasses
        if mask != nil || box != nil {
            let regionMask: RegionTarget.Mask
            switch mask {
            case .pixels(let values, let height, let width)?: regionMask = .pixels(values, height: height, width: width)
            case .predicted?: regionMask = .predicted
            case nil: regionMask = .box(x0: box![0], y0: box![1], x1: box![2], y1: box![3], height: inputSize.height, width: inputSize.width)
            }
            return classLists.map { $0.map { RegionTarget(class: $0, mask: regionMask, tensor: tensor) } }
        }
        if try perImageClasses.isEmpty && y().count == images.count {
            return [[OutputTarget(tensor: tensor)]]
        }
        return classLists.map { $0.map { ClassTarget($0, axis: classAxis, tensor: tensor) } }
    }

    /// One class per image of the batch from one `--class` entry.
    func classList(_ entry: String, images: Range<Int>, totalImages: Int, labels: [String]?) throws -> [Int] {
        let parts = entry.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let indices = try parts.map { try Self.classIndex($0, labels: labels, synsets: synsets) }
        if indices.count == 1 { return [Int](repeating: indices[0], count: images.count) }
        guard indices.count == totalImages else {
            throw CNNVizError(.invalidArgument, "--class '\(entry)' lists \(indices.count) classes for \(totalImages) images; give one class, or one per image")
        }
        return Array(indices[images])
    }

    /// A class index, or a name: matched case-insensitively against each label's whole line,
    /// each of its comma-separated aliases ("tabby cat" in "tabby, tabby cat") and its synset
    /// id. An unknown name lists the nearest aliases (`NameSuggestions`).
    public static func classIndex(_ text: String, labels: [String]?, synsets: [String?] = []) throws -> Int {
        if let index = Int(text) { return index }
        guard let labels else {
            throw CNNVizError(.invalidArgument, "'\(text)' is not a class index, and the model declares no class names; give --labels FILE or an index")
        }
        let key = text.trimmingCharacters(in: .whitespaces).lowercased()
        func aliases(_ label: String) -> [String] {
            [label] + label.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        for (index, label) in labels.enumerated() {
            let synset = synsets.indices.contains(index) ? synsets[index]?.lowercased() : nil
            if synset == key || aliases(label).contains(where: { $0.lowercased() == key }) { return index }
        }
        let nearest = NameSuggestions.nearest(to: key, in: labels.flatMap { aliases($0).dropFirst() })
        throw CNNVizError(.invalidArgument, "'\(text)' is neither a class index nor a class name in the labels; nearest names: "
                          + nearest.map { "'\($0)'" }.joined(separator: ", "))
    }

    /// The top `top` classes of each image along the class axis: `top` lists, the k-th holding
    /// each image's k-th best class.
    func topClasses(_ y: Tensor, images: Int, tensor: String) throws -> [[Int]] {
        if classAxis < y.rank, top > y.shape[classAxis] {
            throw CNNVizError(.invalidArgument, "--top \(top) asks for more classes than the \(y.shape[classAxis]) of '\(tensor)' (axis \(classAxis) of \(y.shape))")
        }
        let perImage = try TargetItem.items(of: y, batch: images, name: tensor).map {
            try ClassTarget.top(top, of: $0, axis: classAxis).map(\.index)
        }
        return (0..<(perImage.map(\.count).min() ?? 0)).map { k in perImage.map { $0[k] } }
    }
}
