extension Session {
    /// Whether the graph, as loaded, can only run the batch size its input declares, decided
    /// from the graph rather than by trying a batch and catching a shape error (which would
    /// hide real shape bugs).
    ///
    /// A graph fixes its batch when the input declares a fixed batch size and a Reshape or
    /// Expand takes a constant target shape that starts with a positive literal: the export
    /// baked the batch in (`view(1, -1)`), or a torch-style Shape → Gather → Concat subgraph
    /// was folded at load time for the declared batch. Pitfall: a literal first entry that is
    /// not a batch (a reshape of a weight, say) also counts; then attribution runs its
    /// batches one item at a time, which is slower but gives the same numbers.
    public func fixesBatch(of input: String) -> Bool {
        guard let declared = graph.inputs.first(where: { $0.name == input })?.shape, let first = declared.first, first != nil else {
            return false
        }
        return graph.nodes.contains { node in
            guard ["Reshape", "Expand"].contains(node.opType), node.inputs.count > 1,
                  let shape = graph.initializers[node.inputs[1]], shape.rank == 1, shape.count >= 2,
                  !shape.isFloatingPoint else { return false }
            return (shape.integers.first ?? 0) > 0
        }
    }
}
