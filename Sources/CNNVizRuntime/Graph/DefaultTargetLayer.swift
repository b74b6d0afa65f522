extension Session {
    /// The default layer to explain: the last tensor with 4 dimensions, H×W > 1 and a known
    /// channel axis that feeds the head (DESIGN.md "Default target layer"), found by walking
    /// back from `output` along each node's data input (its first non-constant input). Layout
    /// and plumbing outputs (Transpose, Reshape, Flatten, Identity, …) and NHWC activations
    /// after a layout Transpose are walked past.
    ///
    /// `shapes` gives tensor shapes from a forward pass (`run(…, outputs: candidates)`), since
    /// shapes are known only once an input is fed. Pitfall: walking back stops at the first
    /// 4-D tensor with more than one pixel, so VGG's answer is its final MaxPool output (7×7),
    /// not the ReLU before it. A 4-D tensor with one channel per class (SqueezeNet's conv10,
    /// a 1×1 conv classifier before global pooling; a segmenter's upsampled class map) is a
    /// class-score map, part of the head, and is walked past, as are Dropout and Identity outputs: SqueezeNet gives fire9/concat.
    public func defaultTargetLayer(for output: String, shapes: (String) throws -> [Int]) throws -> String {
        var name = try resolveTensorName(output)
        let outputShape = try shapes(name)
        let classes = outputShape.count >= 2 ? outputShape[1] : outputShape.reduce(1, *)
        var visited = Set<String>()
        while let index = producers[name], visited.insert(name).inserted {
            let shape = try shapes(name)
            let plumbing = Session.layoutAndPlumbingOps.contains(graph.nodes[index].opType)
            if shape.count == 4 && shape[2] * shape[3] > 1 && shape[1] != classes && !plumbing && !isChannelsLast(name) {
                return name
            }
            guard let input = graph.nodes[index].inputs.first(where: { !$0.isEmpty && graph.initializers[$0] == nil }) else { break }
            name = input
        }
        throw CNNVizError(.invalidModel,
                          "no 4-D tensor with H×W > 1 feeds the classifier head of '\(output)'; name the layer with --layer",
                          location: model.source)
    }

    /// Ops that move or relabel values without computing a feature: their outputs are never
    /// the default layer.
    static let layoutAndPlumbingOps: Set<String> = ["Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"]

    /// Whether a 4-D tensor is in [N, H, W, C] order: it comes, through elementwise ops only,
    /// from a Transpose with perm [0, 2, 3, 1] (tf2onnx leaves activations after such a
    /// Transpose), so its axis 1 is not channels.
    func isChannelsLast(_ name: String) -> Bool {
        var name = name
        var steps = 0
        while let index = producers[name], steps < graph.nodes.count {
            let node = graph.nodes[index]
            if node.opType == "Transpose" {
                if case .ints(let perm)? = node.attributes["perm"] { return perm == [0, 2, 3, 1] }
                return false
            }
            guard ShapeInference.sameShapeOps.contains(node.opType) || ShapeInference.broadcastingOps.contains(node.opType),
                  !["BatchNormalization", "InstanceNormalization", "LRN", "Softmax", "LogSoftmax"].contains(node.opType),
                  let input = node.inputs.first(where: { !$0.isEmpty && graph.initializers[$0] == nil }) else { return false }
            name = input
            steps += 1
        }
        return false
    }

    /// The tensors `defaultTargetLayer` may look at: `output` and its chain of data inputs.
    public func headCandidates(for output: String) throws -> [String] {
        var names = [try resolveTensorName(output)]
        while let index = producers[names.last!], names.count < graph.nodes.count,
              let input = graph.nodes[index].inputs.first(where: { !$0.isEmpty && graph.initializers[$0] == nil }) {
            names.append(input)
        }
        return names
    }
}
