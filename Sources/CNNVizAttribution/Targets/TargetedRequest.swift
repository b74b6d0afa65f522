import CNNVizRuntime

/// A request that names its targets: `CAMRequest` and `SaliencyRequest`.
public protocol TargetedRequest {
    /// One target for every image, or one per image.
    var targets: [any AttributionTarget] { get set }
    /// The tensor that targets without a tensor of their own read; nil means the logit before
    /// the Softmax of the first output that ends in one, else the first output.
    var logits: String? { get set }
}

extension TargetedRequest {
    /// Class targets along axis 1: one class for every image, or one per image.
    public var classes: [Int] {
        get { targets.compactMap(\.classIndex) }
        set { targets = newValue.map { ClassTarget($0) } }
    }

    /// The targets resolved against a session, for a batch of `images`.
    func targetSet(images: Int, session: Session) throws -> TargetSet {
        try TargetSet(targets.map { target in logits.map { target.tensor == nil ? target.reading($0) : target } ?? target },
                      images: images, session: session)
    }
}
