/// An op that can read its data input (slot 0) as the channel slabs of a Concat along axis 1,
/// so that the concatenated tensor is never built, forward or backward.
///
/// Max pooling works plane by plane, so pooling a concatenation is writing each part's pooled
/// planes at their channel offset, and its gradient lands in each part's own planes. For a
/// fire module's Concat → MaxPool (SqueezeNet's fire3 and fire5), that spares copying the
/// concatenation forward and splitting its gradient backward.
///
/// Pitfall: the concatenated tensor does not exist, so it is only skipped when nobody asks for
/// it: not kept, hooked, requested, the seed, or under a replacement backward rule. And a
/// reader must compute exactly what it computes on the built tensor, so that a value never
/// depends on which other tensors were asked for: max pooling does (a max is exact); a 1×1
/// conv summing one product per part would not (split sums round differently; tried and
/// dropped for that reason).
protocol ReadsChannelParts {
    /// Whether this node can read its data input as parts at all (e.g. max pooling without
    /// the Indices output).
    var readsChannelParts: Bool { get }
    /// Whether these parts (the Concat's inputs) suit it; otherwise the Concat runs as usual.
    func accepts(parts: [Tensor]) -> Bool
    /// The op's outputs, computed from the parts.
    func forward(parts: [Tensor]) throws -> [Tensor]
    /// ∂L/∂part for each part with `needs` (nil for the others); `rectified[i]`: part i is a
    /// ReLU's output whose mask this rule applies (`MasksRectifiedInputs`).
    func backward(parts: [Tensor], outputGradient: Tensor, rectified: [Bool], needs: [Bool]) throws -> [Tensor?]
}

extension Session {
    /// Concat node → its only consumer, when that consumer reads channel parts (`ReadsChannelParts`),
    /// has no other input, and the Concat joins along axis 1 into a tensor that is not a graph
    /// output. Built once.
    static func channelPartReaders(_ graph: Graph, operators: [any Operator]) -> [Int: Int] {
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        var result = [Int: Int]()
        for (index, node) in graph.nodes.enumerated() where node.opType == "Concat" && node.outputs.count == 1 {
            let y = node.outputs[0]
            guard (operators[index] as? Concat)?.axis == 1, !node.inputs.contains(""), !outputs.contains(y),
                  let users = consumers[y], users.count == 1, graph.nodes[users[0]].inputs == [y],
                  (operators[users[0]] as? ReadsChannelParts)?.readsChannelParts == true
            else { continue }
            result[index] = users[0]
        }
        return result
    }

    /// Reader node → Concat node, for the pairs of one forward pass whose Concat output nobody
    /// asks for (`targets`) and whose two nodes both run.
    func activePartReaders(needed: Set<Int>, targets: Set<String>) -> [Int: Int] {
        var result = [Int: Int]()
        for (concat, reader) in channelPartReaders where needed.contains(concat) && needed.contains(reader)
            && !targets.contains(graph.nodes[concat].outputs[0]) {
            result[reader] = concat
        }
        return result
    }

    /// Reader node → Concat node, for the pairs a gradient pass may run on parts: not where the
    /// gradient at the Concat's output is observed (a gradient hook), or where a rule replaces
    /// either node's backward. (Whether it does is up to the forward pass: the Concat output
    /// must also be wanted by nobody else.)
    func partReadersForGradients(observed: Set<String>, rules: [String: BackwardRule]) -> [Int: Int] {
        var result = [Int: Int]()
        for (concat, reader) in channelPartReaders {
            let (joining, reading) = (graph.nodes[concat], graph.nodes[reader])
            guard !observed.contains(joining.outputs[0]),
                  [joining.name, joining.opType, reading.name, reading.opType].allSatisfy({ $0.isEmpty || rules[$0] == nil })
            else { continue }
            result[reader] = concat
        }
        return result
    }
}

extension Array where Element == Tensor {
    /// Where each part starts in their concatenation along axis 1, then the total channels.
    var channelOffsets: [Int] { reduce(into: [0]) { $0.append($0.last! + $1.shape[1]) } }
}
