/// An op whose backward can apply the mask of a ReLU that feeds it: given that input `slot` is
/// y = max(0, x) and that the ReLU's own backward (g·[y > 0]) is skipped, the op multiplies
/// ∂L/∂y by [y > 0] itself, in the pass that writes ∂L/∂y anyway.
///
/// Concat masks while it copies each slab; MaxPool sends a window's gradient only when its
/// maximum is > 0 (a window whose maximum is 0 picked a pixel that the ReLU zeroed). Either
/// way the ReLU's separate pass over g and y (8 ms for SqueezeNet's first ReLU at batch 16)
/// goes away.
protocol MasksRectifiedInputs {
    func masksRectifiedInput(_ slot: Int) -> Bool
}

extension Concat: MasksRectifiedInputs {
    func masksRectifiedInput(_ slot: Int) -> Bool { true }
}

extension Pool: MasksRectifiedInputs {
    func masksRectifiedInput(_ slot: Int) -> Bool { kind == .max && slot == 0 }
}

extension Session {
    /// ReLU node → its only consumer, when that consumer can apply the ReLU's mask
    /// (`MasksRectifiedInputs`) and the ReLU's output is not a graph output. Built once.
    static func maskingConsumers(_ graph: Graph, operators: [any Operator]) -> [Int: Int] {
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        var result = [Int: Int]()
        for (index, node) in graph.nodes.enumerated() where node.opType == "Relu" && node.outputs.count == 1 {
            let y = node.outputs[0]
            guard !outputs.contains(y), let users = consumers[y], users.count == 1,
                  let masking = operators[users[0]] as? MasksRectifiedInputs,
                  let slot = graph.nodes[users[0]].inputs.firstIndex(of: y), masking.masksRectifiedInput(slot)
            else { continue }
            result[index] = users[0]
        }
        return result
    }

    /// The ReLUs of one gradient pass whose backward is skipped because their consumer masks
    /// for them. Pitfall: ∂L/∂y is then already masked, so it must not be observable: y is not
    /// requested, hooked or the seed, and neither the ReLU (guided, deconvnet and
    /// straight-through ReLUs are not g·[y > 0]) nor the consumer has a replacement rule.
    func preMaskedRectifiers(region: Set<Int>, seed: String, observed: Set<String>, rules: [String: BackwardRule],
                             straightThrough: Set<String>) -> Set<Int> {
        var result = Set<Int>()
        for (relu, consumer) in maskingConsumers where region.contains(relu) && region.contains(consumer) {
            let (node, user) = (graph.nodes[relu], graph.nodes[consumer])
            let y = node.outputs[0]
            guard y != seed, !observed.contains(y), !straightThrough.contains(y),
                  rules[node.name] == nil, rules[node.opType] == nil, rules[user.name] == nil, rules[user.opType] == nil
            else { continue }
            result.insert(relu)
        }
        return result
    }
}
