import CNNVizRuntime

/// What one image's explanation is about: a scalar read from one tensor of the model, and
/// its gradient with respect to that tensor (the cotangent that starts the backward pass).
///
/// Targets are small values, as pytorch-grad-cam's target objects are (`ClassifierOutputTarget`,
/// `SemanticSegmentationTarget`, …): a request holds one for every image, or one per image, so
/// a batch can mix them. Each kind reads `TargetItem`, batch item n of its tensor y, and gives
/// s = f(y[n]) and ∂s/∂y[n].
///
/// Pitfall: a target that is not linear in y (a box score times objectness, a cosine) gives a
/// cotangent that depends on y, so it must be computed from the forward values of the same pass.
public protocol AttributionTarget: Sendable {
    /// The tensor the target reads (a tensor or node name); nil means the model's default:
    /// the logits before the Softmax of the first output that ends in one, else the first output.
    var tensor: String? { get set }
    /// Words for captions, JSON and errors: "class 281", "element [3, 17] of 'logits'".
    var summary: String { get }
    /// The class this target explains, where it has one (for labels and file names).
    var classIndex: Int? { get }
    /// s = f(y[n]).
    func score(_ item: TargetItem) throws -> Float
    /// ∂s/∂y[n], with `item.values.count` entries in item order.
    func cotangent(_ item: TargetItem) throws -> [Float]
}

extension AttributionTarget {
    public var classIndex: Int? { nil }

    /// The same target reading another tensor.
    public func reading(_ tensor: String) -> Self {
        var copy = self
        copy.tensor = tensor
        return copy
    }
}

/// Batch item n of a target's tensor: its values and its shape without the batch axis.
public struct TargetItem {
    /// The resolved tensor name, for errors.
    public var tensor: String
    /// The whole tensor's shape, for errors.
    public var tensorShape: [Int]
    /// The shape of one item (the tensor's shape without its first, batch axis).
    public var shape: [Int]
    public var values: ArraySlice<Float>
    /// False when the tensor has no batch axis and the item is the whole tensor.
    public var hasBatchAxis: Bool

    /// The `batch` items of `y`, which share its storage. A tensor whose first axis is not
    /// the batch (a rank-1 output of a batch-1 model) is one whole item, repeated.
    public static func items(of y: Tensor, batch: Int, name: String) -> [TargetItem] {
        let values = y.floats
        let splits = y.rank >= 1 && y.shape[0] == batch && batch > 0
        let size = splits ? values.count / batch : values.count
        return (0..<batch).map { index in
            let start = splits ? index * size : 0
            return TargetItem(tensor: name, tensorShape: y.shape, shape: splits ? Array(y.shape.dropFirst()) : y.shape,
                              values: values[start..<(start + size)], hasBatchAxis: splits)
        }
    }

    /// The only item of a batch-1 tensor.
    public init(_ y: Tensor, name: String) { self = TargetItem.items(of: y, batch: 1, name: name)[0] }

    init(tensor: String, tensorShape: [Int], shape: [Int], values: ArraySlice<Float>, hasBatchAxis: Bool) {
        self.tensor = tensor
        self.tensorShape = tensorShape
        self.shape = shape
        self.values = values
        self.hasBatchAxis = hasBatchAxis
    }

    /// The flat offset of `index` (one entry per item axis), or an error that names the shape.
    public func offset(of index: [Int], for target: String) throws -> Int {
        guard index.count == shape.count, zip(index, shape).allSatisfy({ $0 >= 0 && $0 < $1 }) else {
            throw TargetError.doesNotFit(target: target, tensor: tensor, shape: tensorShape,
                                         detail: "index \(index) is outside an item of shape \(shape)")
        }
        return zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    /// A cotangent with `value` at each flat offset given, zero elsewhere.
    func sparseCotangent(_ entries: [(offset: Int, value: Float)]) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        for entry in entries { result[entry.offset] += entry.value }
        return result
    }

    /// The item axis of a tensor axis (axis 1 is item axis 0); a tensor without a batch axis
    /// keeps its axes. Nil when the axis is outside the item.
    public func itemAxis(ofTensorAxis axis: Int) -> Int? {
        let itemAxis = hasBatchAxis ? axis - 1 : (shape.count == 1 ? 0 : axis - 1)
        return (0..<shape.count).contains(itemAxis) ? itemAxis : nil
    }

    /// values[offset], item-relative.
    subscript(offset: Int) -> Float { values[values.startIndex + offset] }
}

/// Why a target cannot be read from a tensor.
public enum TargetError {
    /// A `CNNVizError` (`.invalidArgument`) that names the target, the tensor and its shape,
    /// what did not fit, and the target forms that fit a tensor of that rank.
    public static func doesNotFit(target: String, tensor: String, shape: [Int], detail: String) -> CNNVizError {
        CNNVizError(.invalidArgument,
                    "the target \(target) does not fit '\(tensor)' of shape \(shape): \(detail). " + fittingForms(shape))
            .with(tensor: tensor, foundShape: shape)
    }

    /// The command-line target forms that make sense for a tensor of this shape.
    public static func fittingForms(_ shape: [Int]) -> String {
        let itemRank = max(shape.count - 1, 0)
        var forms = ["--class K (axis 1; --class-axis to change)"]
        if itemRank >= 3 { forms.append("--class K with --mask PNG|predicted or --box x0,y0,x1,y1 (a region of a dense output)") }
        if itemRank >= 1 { forms.append("--index " + (0..<itemRank).map { "i\($0)" }.joined(separator: ",") + " (one element)") }
        if itemRank == 2 { forms.append("--box x0,y0,x1,y1 or --detection K (a raw YOLO-style detector head)") }
        forms.append("--similar-to PATH, --cotangent PATH.npy, --output NAME")
        return "Targets that fit: " + forms.joined(separator: "; ") + "."
    }
}
