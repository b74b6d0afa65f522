import CNNVizRuntime

/// One element of an item by its index tuple, s = y[n, i, j, …]: a (timestep, character) of
/// a sequence recogniser's [N, T, C] output, an (anchor, field) of a detector head, a pixel of
/// a class map. Captum's target tuple for outputs with more than two dimensions.
public struct ElementTarget: AttributionTarget {
    /// One entry per axis after the batch axis.
    public var index: [Int]
    public var tensor: String?

    public init(_ index: [Int], tensor: String? = nil) {
        self.index = index
        self.tensor = tensor
    }

    public var summary: String { "element \(index)" }
    public var classIndex: Int? { index.last }

    public func score(_ item: TargetItem) throws -> Float { item[try item.offset(of: index, for: summary)] }

    public func cotangent(_ item: TargetItem) throws -> [Float] {
        item.sparseCotangent([(try item.offset(of: index, for: summary), 1)])
    }
}
