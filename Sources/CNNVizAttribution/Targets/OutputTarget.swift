import CNNVizRuntime

/// A whole tensor: s = Σ y[n] (pytorch-grad-cam's `RawScoresOutputTarget` summed; for a
/// one-value output such as a quality score or a regression head, that value).
public struct OutputTarget: AttributionTarget {
    public var tensor: String?

    public init(tensor: String) { self.tensor = tensor }

    public var summary: String { "output '\(tensor ?? "")'" }

    public func score(_ item: TargetItem) throws -> Float { item.values.reduce(0, +) }

    public func cotangent(_ item: TargetItem) throws -> [Float] { [Float](repeating: 1, count: item.values.count) }
}
