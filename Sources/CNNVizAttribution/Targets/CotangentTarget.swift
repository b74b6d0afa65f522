import CNNVizRuntime

/// Any tensor seeded with a given cotangent v of its item's shape: s = Σ v ⊙ y[n], so
/// ∂s/∂y[n] = v. The escape hatch for any target the other kinds do not express.
public struct CotangentTarget: AttributionTarget {
    public var values: Tensor
    public var tensor: String?

    /// `values` has the item's shape, or the whole tensor's shape with a batch of 1.
    public init(_ values: Tensor, tensor: String? = nil) {
        self.values = values
        self.tensor = tensor
    }

    public var summary: String { "cotangent \(values.shape)" }

    public func score(_ item: TargetItem) throws -> Float {
        zip(try cotangent(item), item.values).reduce(0) { $0 + $1.0 * $1.1 }
    }

    public func cotangent(_ item: TargetItem) throws -> [Float] {
        guard values.count == item.values.count,
              values.shape == item.shape || values.shape == [1] + item.shape || values.shape == item.tensorShape else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "the cotangent must have an item's shape \(item.shape) or \([1] + item.shape)")
        }
        return values.floats
    }
}
