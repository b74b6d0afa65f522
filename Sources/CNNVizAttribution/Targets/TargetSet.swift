import CNNVizRuntime

/// The targets of one request, resolved against a session: the one tensor they read and one
/// target per image.
///
/// Every target of a request reads the same tensor, so one backward pass serves the batch.
public struct TargetSet {
    /// The resolved tensor name.
    public let tensor: String
    let targets: [any AttributionTarget]

    /// `targets` holds one target for every image, or one per image.
    public init(_ targets: [any AttributionTarget], images: Int, session: Session) throws {
        guard !targets.isEmpty, targets.count == 1 || targets.count == images else {
            throw CNNVizError(.invalidArgument, "\(targets.count) targets for \(images) images; give one target, or one per image")
        }
        let names = try Set(targets.map { try TargetSet.resolveTensor($0.tensor, session: session) })
        guard names.count == 1, let tensor = names.first else {
            throw CNNVizError(.invalidArgument, "the targets of one request read different tensors (\(names.sorted().joined(separator: ", "))); run them separately")
        }
        self.tensor = tensor
        self.targets = targets.count == 1 ? Array(repeating: targets[0], count: images) : targets
    }

    /// A tensor name as given, or the default: the logits before the Softmax of the first output
    /// that ends in one (MTCNN's face probability is its third output, after the box
    /// regression), or the first output itself.
    public static func resolveTensor(_ name: String?, session: Session) throws -> String {
        if let name { return try session.resolveTensorName(name) }
        return try defaultOutput(session).logits
    }

    /// The output that targets read by default, and the tensor they read in it (its logits).
    public static func defaultOutput(_ session: Session) throws -> (output: String, logits: String) {
        guard let first = session.graph.outputs.first?.name else {
            throw CNNVizError(.invalidModel, "the model has no outputs", location: session.model.source)
        }
        for output in session.graph.outputs.map(\.name) {
            if let logits = session.logitsBeforeSoftmax(output) { return (output, logits) }
        }
        return (first, first)
    }

    public func target(for image: Int) -> any AttributionTarget { targets[image] }

    /// Each image's target in words.
    public var summaries: [String] { targets.map(\.summary) }

    public var count: Int { targets.count }

    /// The targets of `images`, in that order (a sub-batch, or copies of one image).
    public func subset(_ images: [Int]) -> TargetSet { TargetSet(tensor: tensor, targets: images.map { targets[$0] }) }

    /// One target for `count` items (perturbed copies of one image), reading `tensor`.
    public static func repeating(_ target: any AttributionTarget, count: Int, tensor: String) -> TargetSet {
        TargetSet(tensor: tensor, targets: Array(repeating: target, count: count))
    }

    init(tensor: String, targets: [any AttributionTarget]) {
        self.tensor = tensor
        self.targets = targets
    }

    /// The score of each item of `y` (this set's tensor for a batch of `targets.count` items).
    public func scores(_ y: Tensor) throws -> [Float] {
        let items = TargetItem.items(of: y, batch: targets.count, name: tensor)
        return try targets.indices.map { try targets[$0].score(items[$0]) }
    }

    /// The seed of the backward pass: item n's cotangent from target n, computed from the
    /// forward values of the same pass.
    public var seed: GradientSeed {
        let (tensor, targets) = (self.tensor, self.targets)
        return GradientSeed(output: tensor, kind: .loss { y in
            var values = [Float]()
            values.reserveCapacity(y.count)
            let items = TargetItem.items(of: y, batch: targets.count, name: tensor)
            for n in targets.indices { values += try targets[n].cotangent(items[n]) }
            guard values.count == y.count else {
                throw CNNVizError(.shapeMismatch,
                                  "'\(tensor)' of shape \(y.shape) does not hold one item per image for \(targets.count) images")
            }
            return Tensor(shape: y.shape, floats: values)
        })
    }
}
