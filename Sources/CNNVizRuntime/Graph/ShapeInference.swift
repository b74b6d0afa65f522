/// Static output shapes for the ops that usually sit upstream of a `Shape` node, so that
/// torch-style shape subgraphs (Shape → Gather → Unsqueeze → Concat → Reshape) fold to
/// constants when the model is loaded. An op it does not know yields nil, and the
/// subgraph then runs at execution time instead (still correct, only not folded).
enum ShapeInference {
    static let sameShapeOps: Set<String> = [
        "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Erf",
        "Softplus", "Mish", "Exp", "Sqrt", "Neg", "Abs", "Log", "Reciprocal", "Clip", "Identity", "Dropout",
        "BatchNormalization", "InstanceNormalization", "LRN", "Softmax", "LogSoftmax", "Cast",
    ]
    static let broadcastingOps: Set<String> = ["Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Sum", "Max", "Min", "Mean"]

    static func outputShape(of node: Node, inputShapes: [[Int]?]) -> [Int]? {
        guard let first = inputShapes.first ?? nil else { return nil }
        if sameShapeOps.contains(node.opType) { return first }
        if broadcastingOps.contains(node.opType) {
            var shape = first
            for other in inputShapes.dropFirst() {
                guard let other, let combined = try? Shape.broadcast(shape, other) else { return nil }
                shape = combined
            }
            return shape
        }
        switch node.opType {
        case "Conv", "MaxPool", "AveragePool":
            guard first.count == 4, let attributes = try? WindowGeometry.Attributes(node: node) else { return nil }
            let weightShape = inputShapes.count > 1 ? inputShapes[1] : nil
            if node.opType == "Conv" && weightShape?.count != 4 { return nil }
            guard let kernel = attributes.kernel ?? weightShape.map({ Array($0[2...]) }),
                  let geometry = try? WindowGeometry(input: Array(first[2...]), kernel: kernel, attributes: attributes) else { return nil }
            let channels = node.opType == "Conv" ? (weightShape?[0] ?? -1) : first[1]
            return channels < 0 ? nil : [first[0], channels] + geometry.output
        case "GlobalAveragePool", "GlobalMaxPool":
            guard first.count >= 3 else { return nil }
            return Array(first[0..<2]) + [Int](repeating: 1, count: first.count - 2)
        case "Flatten":
            let axis = (try? node.int("axis", default: 1)) ?? 1
            let a = axis < 0 ? axis + first.count : axis
            guard a >= 0 && a <= first.count else { return nil }
            return [first[..<a].reduce(1, *), first[a...].reduce(1, *)]
        case "Concat":
            guard let axis = try? node.int("axis", default: 1), inputShapes.allSatisfy({ $0?.count == first.count }),
                  let a = try? Shape.normalizedAxis(axis, rank: first.count) else { return nil }
            var shape = first
            shape[a] = inputShapes.reduce(0) { $0 + $1![a] }
            return shape
        case "Gemm":
            guard inputShapes.count > 1, let b = inputShapes[1], first.count == 2, b.count == 2 else { return nil }
            let transA = ((try? node.int("transA", default: 0)) ?? 0) != 0
            let transB = ((try? node.int("transB", default: 0)) ?? 0) != 0
            return [transA ? first[1] : first[0], transB ? b[0] : b[1]]
        case "Transpose":
            let perm = (try? node.ints("perm")) ?? nil ?? Array((0..<first.count).reversed())
            guard perm.sorted() == Array(0..<first.count) else { return nil }
            return perm.map { first[$0] }
        default:
            return nil
        }
    }
}
