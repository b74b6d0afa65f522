/// How a model's image input orders its axes.
public enum InputLayout: String, Sendable {
    /// [N, C, H, W]: PyTorch exports.
    case nchw
    /// [N, H, W, C]: TensorFlow and Keras exports through tf2onnx, usually followed by a
    /// Transpose with perm [0, 3, 1, 2].
    case nhwc
}

extension Model {
    /// The layout of the first graph input.
    ///
    /// NHWC when the input feeds a Transpose with perm [0, 3, 1, 2], or when it has rank 4
    /// with 1, 3 or 4 on its last axis and not on axis 1. Pitfall: a fully symbolic
    /// [?, ?, ?, ?] input that feeds a convolution directly is taken as NCHW.
    public var inputLayout: InputLayout {
        guard let input = graph.inputs.first, let shape = input.shape, shape.count == 4 else { return .nchw }
        let feedsChannelsFirstTranspose = graph.nodes.contains { node in
            guard node.opType == "Transpose", node.inputs.first == input.name, case .ints(let perm)? = node.attributes["perm"] else { return false }
            return perm == [0, 3, 1, 2]
        }
        if feedsChannelsFirstTranspose { return .nhwc }
        let imageChannels: Set<Int> = [1, 3, 4]
        guard let last = shape[3], imageChannels.contains(last) else { return .nchw }
        return shape[1].map { imageChannels.contains($0) } == true ? .nchw : .nhwc
    }

    /// This model with an [N, C, H, W] first input, so that images, maps and gradients are in
    /// one layout whatever the export: an NHWC input gets a Transpose (perm [0, 2, 3, 1])
    /// in front of it, under the input's own name. An NCHW model is returned as it is.
    ///
    /// The Transpose is exact, so every value downstream equals the original model's on the
    /// transposed input; only the input's declared shape and the first node differ.
    public func withChannelsFirstInput() -> Model {
        guard inputLayout == .nhwc, let input = graph.inputs.first, let shape = input.shape else { return self }
        var model = self
        let inner = input.name + "/nhwc"
        for index in model.graph.nodes.indices {
            model.graph.nodes[index].inputs = model.graph.nodes[index].inputs.map { $0 == input.name ? inner : $0 }
        }
        for index in model.graph.outputs.indices where model.graph.outputs[index].name == input.name {
            model.graph.outputs[index].name = inner
        }
        let transpose = Node(name: Model.channelsFirstAdapterName, opType: "Transpose", inputs: [input.name], outputs: [inner],
                             attributes: ["perm": .ints([0, 2, 3, 1])])
        model.graph.nodes.insert(transpose, at: 0)
        model.graph.inputs[0].shape = [shape[0], shape[3], shape[1], shape[2]]
        return model
    }
}

extension Model {
    /// The name of the Transpose node that `withChannelsFirstInput` puts in front of an NHWC input.
    public static let channelsFirstAdapterName = "cnn-viz/nchw_to_nhwc"

    /// Whether this model's first input was NHWC and now takes NCHW through that Transpose.
    public var hasChannelsFirstAdapter: Bool { graph.nodes.first?.name == Model.channelsFirstAdapterName }
}

extension Tensor {
    /// A rank-4 [N, H, W, C] tensor as [N, C, H, W].
    public func channelsFirst() -> Tensor {
        precondition(rank == 4, "channelsFirst() needs a rank-4 tensor, found \(shape)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let values = floats
        var result = [Float](repeating: 0, count: values.count)
        for b in 0..<n {
            for y in 0..<h {
                for x in 0..<w {
                    for k in 0..<c { result[((b * c + k) * h + y) * w + x] = values[((b * h + y) * w + x) * c + k] }
                }
            }
        }
        return Tensor(shape: [n, c, h, w], floats: result)
    }
}
