import CNNVizRuntime

extension Session {
    /// What a target's value on `tensor` is, for captions and manifests: "probability" when a
    /// Softmax or Sigmoid makes it (through reshapes), else "logit" for a graph output or the
    /// tensor before an output's Softmax, else "score" (a region, an embedding, a feature).
    /// Pitfall: a model whose last op is a Sigmoid over a detection grid gives probabilities
    /// that are not class scores; the word is still right.
    public func scoreName(of tensor: String) -> String {
        let graph = self.graph, producers = graph.producers
        var name = tensor
        while let index = producers[name] {
            let node = graph.nodes[index]
            switch node.opType {
            case "Softmax", "Sigmoid": return "probability"
            case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity":
                guard let input = node.inputs.first else { return "score" }
                name = input
                continue
            default: break
            }
            break
        }
        let isOutput = graph.outputs.contains { $0.name == tensor }
        let beforeSoftmax = graph.outputs.contains { logitsBeforeSoftmax($0.name) == tensor }
        return isOutput || beforeSoftmax ? "logit" : "score"
    }
}
