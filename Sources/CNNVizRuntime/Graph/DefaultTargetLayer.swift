extension Session {
    /// The default layer to explain: the last tensor with 4 dimensions and H×W > 1 that feeds
    /// the classifier head (DESIGN.md "Default target layer"), found by walking back from
    /// `output` along each node's data input (its first non-constant input).
    ///
    /// `shapes` gives tensor shapes from a forward pass (`run(…, outputs: candidates)`), since
    /// shapes are known only once an input is fed. Pitfall: walking back stops at the first
    /// 4-D tensor with more than one pixel, so VGG's answer is its final MaxPool output (7×7),
    /// not the ReLU before it. A 4-D tensor with one channel per class (SqueezeNet's conv10,
    /// a 1×1 conv classifier before global pooling) is a class-score map, part of the head,
    /// and is walked past, as are Dropout and Identity outputs: SqueezeNet gives fire9/concat.
    public func defaultTargetLayer(for output: String, shapes: (String) throws -> [Int]) throws -> String {
        var name = try resolveTensorName(output)
        let classes = try shapes(name).dropFirst().reduce(1, *)
        var visited = Set<String>()
        while let index = producers[name], visited.insert(name).inserted {
            let shape = try shapes(name)
            let passThrough = ["Dropout", "Identity"].contains(graph.nodes[index].opType)
            if shape.count == 4 && shape[2] * shape[3] > 1 && shape[1] != classes && !passThrough { return name }
            guard let input = graph.nodes[index].inputs.first(where: { !$0.isEmpty && graph.initializers[$0] == nil }) else { break }
            name = input
        }
        throw CNNVizError(.invalidModel,
                          "no 4-D tensor with H×W > 1 feeds the classifier head of '\(output)'; name the layer with --layer",
                          location: model.source)
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
