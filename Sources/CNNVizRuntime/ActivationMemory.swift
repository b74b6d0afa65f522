/// The memory a forward pass needs for activations, at `bytesPerElement` bytes per element.
///
/// `summedBytes`: every node output added up, as if all were kept (what `cnn-viz activations
/// --all` holds). `peakBytes`: the most that is alive at once when the nodes run in the
/// graph's topological order, each output allocated when its node runs and freed after its
/// last reader has run (graph outputs are never freed; graph inputs count until their last
/// reader). Pitfall: this is a bound for that one order, without in-place reuse (a fused ReLU
/// writes into its producer's buffer) or operator workspaces (im2col tiles); another valid
/// order can peak lower or higher.
public struct ActivationMemory: Sendable, Equatable {
    public var summedBytes: Int
    public var peakBytes: Int

    /// - Parameter elementCounts: elements per tensor, for the graph inputs and every node output.
    public init(graph: Graph, elementCounts: [String: Int], bytesPerElement: Int = MemoryLayout<Float>.size) {
        let keptToTheEnd = Set(graph.outputs.map(\.name))
        var lastReader = [String: Int]()
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { lastReader[input] = index }
        }
        func bytes(_ name: String) -> Int { (elementCounts[name] ?? 0) * bytesPerElement }
        var live = graph.inputs.reduce(0) { $0 + bytes($1.name) }
        var peak = live, summed = 0
        for (index, node) in graph.nodes.enumerated() {
            let outputs = node.outputs.filter { !$0.isEmpty }
            let produced = outputs.reduce(0) { $0 + bytes($1) }
            summed += produced
            live += produced
            peak = max(peak, live)
            let released = Set(node.inputs.filter { lastReader[$0] == index } + outputs.filter { lastReader[$0] == nil })
                .filter { !keptToTheEnd.contains($0) && graph.initializers[$0] == nil }
            live -= released.reduce(0) { $0 + bytes($1) }
        }
        summedBytes = summed
        peakBytes = peak
    }
}
