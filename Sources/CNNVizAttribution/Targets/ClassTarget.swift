import CNNVizRuntime

/// One class along a tensor's class axis: s = Σ over every other item position of
/// y[n, …, c, …] (pytorch-grad-cam's `ClassifierOutputTarget`; for a dense [N, C, H, W]
/// output, the class's whole score map).
///
/// Pitfall: the class axis is axis 1 by default, as for [N, C] logits and [N, C, H, W] maps;
/// a sequence recogniser's [N, T, C] output has its classes on axis 2, and summing over axis 1
/// there would add up a timestep's characters instead.
public struct ClassTarget: AttributionTarget {
    public var index: Int
    /// The class axis, counted in the tensor's own axes (the batch axis is 0).
    public var axis: Int
    public var tensor: String?

    public init(_ index: Int, axis: Int = 1, tensor: String? = nil) {
        self.index = index
        self.axis = axis
        self.tensor = tensor
    }

    public var summary: String { "class \(index)" + (axis == 1 ? "" : " along axis \(axis)") }
    public var classIndex: Int? { index }

    public func score(_ item: TargetItem) throws -> Float {
        try positions(in: item).reduce(0) { $0 + item[$1] }
    }

    public func cotangent(_ item: TargetItem) throws -> [Float] {
        item.sparseCotangent(try positions(in: item).map { ($0, 1) })
    }

    /// The flat item offsets whose coordinate along the class axis is `index`.
    func positions(in item: TargetItem) throws -> [Int] {
        guard let itemAxis = item.itemAxis(ofTensorAxis: axis) else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "it has no class axis \(axis)")
        }
        let classes = item.shape[itemAxis]
        guard index >= 0 && index < classes else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "class index \(index) is out of range: expected 0..<\(classes) along axis \(axis)")
        }
        let inner = item.shape[(itemAxis + 1)...].reduce(1, *)
        let outer = item.shape[..<itemAxis].reduce(1, *)
        return (0..<outer).flatMap { o in (0..<inner).map { i in (o * classes + index) * inner + i } }
    }

    /// The top `count` classes of one item, by the class score above (a sum over positions for
    /// dense outputs), highest first.
    public static func top(_ count: Int, of item: TargetItem, axis: Int = 1, tensor: String? = nil) throws -> [ClassTarget] {
        guard let itemAxis = item.itemAxis(ofTensorAxis: axis) else {
            throw TargetError.doesNotFit(target: "top-\(count)", tensor: item.tensor, shape: item.tensorShape,
                                         detail: "it has no class axis \(axis)")
        }
        let classes = item.shape[itemAxis]
        let scores = try (0..<classes).map { try ClassTarget($0, axis: axis, tensor: tensor).score(item) }
        return scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            .prefix(count).map { ClassTarget($0, axis: axis, tensor: tensor) }
    }
}
