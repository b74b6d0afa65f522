/// Which ONNX op types the runtime supports, and how each is built.
public enum OperatorRegistry {
    public static let builders: [String: OperatorBuilder] = {
        var table = [String: OperatorBuilder]()
        table["Conv"] = { node, _ in try Conv(node: node) }
        table["ConvTranspose"] = { node, _ in try ConvTranspose(node: node) }
        table["MaxPool"] = { node, opset in try Pool(node: node, kind: .max, opset: opset) }
        table["AveragePool"] = { node, opset in try Pool(node: node, kind: .average, opset: opset) }
        table["GlobalAveragePool"] = { _, _ in GlobalPool(kind: .average) }
        table["GlobalMaxPool"] = { _, _ in GlobalPool(kind: .max) }
        table["BatchNormalization"] = { node, opset in try BatchNormalization(node: node, opset: opset) }
        table["InstanceNormalization"] = { node, _ in try InstanceNormalization(node: node) }
        table["LRN"] = { node, _ in try LRN(node: node) }
        table["Gemm"] = { node, _ in try Gemm(node: node) }
        table["MatMul"] = { _, _ in MatMul() }
        for (name, builder) in Activations.builders { table[name] = builder }
        for (name, builder) in PointwiseMaths.builders { table[name] = builder }
        for (name, builder) in BinaryFunctions.builders { table[name] = builder }
        for (name, builder) in BinaryFunctions.variadicBuilders { table[name] = builder }
        table["Clip"] = { node, opset in try Clip(node: node, opset: opset) }
        table["Softmax"] = { node, opset in try Softmax(node: node, opset: opset, logarithmic: false) }
        table["LogSoftmax"] = { node, opset in try Softmax(node: node, opset: opset, logarithmic: true) }
        for (name, builder) in Reduce.builders { table[name] = builder }
        for (name, builder) in Comparison.builders { table[name] = builder }
        for (name, builder) in Quantization.builders { table[name] = builder }
        table["Where"] = { _, _ in Where() }
        table["Range"] = { _, _ in ArithmeticRange() }
        table["Size"] = { _, _ in Size() }
        table["EyeLike"] = { node, _ in try EyeLike(node: node) }
        table["Trilu"] = { node, _ in try Trilu(node: node) }
        table["Tile"] = { _, _ in Tile() }
        table["CumSum"] = { node, _ in try CumSum(node: node) }
        table["ArgMax"] = { node, _ in try ArgExtremum(node: node, largest: true) }
        table["ArgMin"] = { node, _ in try ArgExtremum(node: node, largest: false) }
        table["Hardmax"] = { node, opset in try Hardmax(node: node, opset: opset) }
        table["TopK"] = { node, opset in try TopK(node: node, opset: opset) }
        table["NonZero"] = { _, _ in NonZero() }
        table["OneHot"] = { node, _ in try OneHot(node: node) }
        table["LayerNormalization"] = { node, _ in try LayerNormalization(node: node) }
        table["GroupNormalization"] = { node, _ in try GroupNormalization(node: node) }
        table["MeanVarianceNormalization"] = { node, _ in try MeanVarianceNormalization(node: node) }
        table["LpNormalization"] = { node, _ in try LpNormalization(node: node) }
        table["GatherElements"] = { node, _ in try GatherElements(node: node) }
        table["GatherND"] = { node, _ in try GatherND(node: node) }
        table["ScatterElements"] = { node, _ in try Scatter(node: node, form: .elements(axis: try node.int("axis", default: 0))) }
        table["ScatterND"] = { node, _ in try Scatter(node: node, form: .nd) }
        table["DepthToSpace"] = { node, _ in try DepthToSpace(node: node, toSpace: true) }
        table["SpaceToDepth"] = { node, _ in try DepthToSpace(node: node, toSpace: false) }
        table["Einsum"] = { node, _ in try Einsum(node: node) }
        table["LSTM"] = { node, _ in try Recurrent(node: node, cell: LSTMCell(inputForget: try node.int("input_forget", default: 0) != 0)) }
        table["GRU"] = { node, _ in try Recurrent(node: node, cell: GRUCell(linearBeforeReset: try node.int("linear_before_reset", default: 0) != 0)) }
        table["RNN"] = { node, _ in try Recurrent(node: node, cell: RNNCell()) }
        table["GridSample"] = { node, _ in try GridSample(node: node) }
        table["AffineGrid"] = { node, _ in try AffineGrid(node: node) }
        table["RoiAlign"] = { node, opset in try RoiAlign(node: node, opset: opset) }
        table["NonMaxSuppression"] = { node, _ in try NonMaxSuppression(node: node) }
        table["Col2Im"] = { node, _ in try Col2Im(node: node) }
        table["CenterCropPad"] = { node, _ in try CenterCropPad(node: node) }
        table["If"] = { node, opset in try If(node: node, opset: opset) }
        table["Concat"] = { node, _ in try Concat(node: node) }
        table["Split"] = { node, opset in try Split(node: node, opset: opset) }
        table["Slice"] = { node, opset in try Slice(node: node, opset: opset) }
        table["Reshape"] = { node, _ in try Reshape(node: node) }
        table["Flatten"] = { node, _ in try Flatten(node: node) }
        table["Squeeze"] = { node, _ in try Squeeze(node: node) }
        table["Unsqueeze"] = { node, _ in try Unsqueeze(node: node) }
        table["Transpose"] = { node, _ in try Transpose(node: node) }
        table["Pad"] = { node, opset in try Pad(node: node, opset: opset) }
        table["Expand"] = { _, _ in Expand() }
        table["Gather"] = { node, _ in try Gather(node: node) }
        table["Shape"] = { node, _ in try ShapeOf(node: node) }
        table["Constant"] = { node, _ in try Constant(node: node) }
        table["ConstantOfShape"] = { node, _ in try ConstantOfShape(node: node) }
        table["Cast"] = { node, _ in try Cast(node: node) }
        table["Identity"] = { _, _ in Identity() }
        table["Dropout"] = { node, opset in try Dropout(node: node, opset: opset) }
        table["Resize"] = { node, opset in try Resize(node: node, opset: opset) }
        table["Upsample"] = { node, opset in try Resize(upsampleNode: node, opset: opset) }
        return table
    }()

    public static var supportedOps: [String] { builders.keys.sorted() }

    /// Ops of onnxruntime's com.microsoft domain, by op type.
    public static let microsoftBuilders: [String: OperatorBuilder] = Quantization.microsoftBuilders

    public static func build(_ node: Node, opset: Int) throws -> any Operator {
        if node.domain == "cnn-viz", node.opType == "FakeQuantize" {
            return try located(node) { FakeQuantize(axis: try node.int("axis", default: 1)) }
        }
        if node.domain == "com.microsoft" {
            guard let builder = microsoftBuilders[node.opType] else {
                throw CNNVizError(.unsupportedOperator,
                                  "op '\(node.opType)' of domain 'com.microsoft' is not supported; of that domain cnn-viz runs \(microsoftBuilders.keys.sorted().joined(separator: ", "))",
                                  location: node.location)
            }
            return try located(node) { try builder(node, opset) }
        }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw CNNVizError(.unsupportedOperator,
                              "op '\(node.opType)' of domain '\(node.domain)' (opset \(opset)) is not supported; only the default ai.onnx domain and com.microsoft's quantized ops are",
                              location: node.location)
        }
        guard let builder = builders[node.opType] else {
            throw CNNVizError(.unsupportedOperator,
                              "op '\(node.opType)' (opset \(opset)) is not supported; the README's op table lists the \(supportedOps.count) supported ops",
                              location: node.location)
        }
        return try located(node) { try builder(node, opset) }
    }

    /// Builds with errors located at the node.
    static func located(_ node: Node, _ build: () throws -> any Operator) throws -> any Operator {
        do {
            return try build()
        } catch let error as CNNVizError {
            throw error.location == nil ? error.located(at: node.location) : error
        }
    }
}
