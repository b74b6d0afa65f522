/// If: runs then_branch when the one-element condition is true, else else_branch, and returns
/// that branch's outputs. The branches read tensors of the enclosing graph; the loader appends
/// those to the node's inputs after the condition (`Node.withImplicitInputs`), so they arrive
/// here as inputs 1… in the order `implicitNames` gives.
///
/// Each branch is its own Session, built (and checked for unsupported ops) once. No gradient
/// flows through If: exports use it for post-processing (NMS over empty or non-empty boxes).
struct If: Operator {
    let implicitNames: [String]
    let thenBranch: Session, elseBranch: Session
    let thenOutputs: [String], elseOutputs: [String]

    init(node: Node, opset: Int) throws {
        guard case .graph(let thenGraph)? = node.attributes["then_branch"], case .graph(let elseGraph)? = node.attributes["else_branch"] else {
            throw CNNVizError(.invalidAttribute, "If needs the graph attributes then_branch and else_branch")
        }
        implicitNames = Array(node.inputs.dropFirst())
        thenBranch = try Session(model: Model(graph: thenGraph, irVersion: 8, opsetVersion: opset, source: "then_branch of '\(node.name)'"))
        elseBranch = try Session(model: Model(graph: elseGraph, irVersion: 8, opsetVersion: opset, source: "else_branch of '\(node.name)'"))
        thenOutputs = thenGraph.outputs.map(\.name)
        elseOutputs = elseGraph.outputs.map(\.name)
        guard thenOutputs.count == elseOutputs.count, thenOutputs.count == node.outputs.count else {
            throw CNNVizError(.invalidModel, "If's branches give \(thenOutputs.count) and \(elseOutputs.count) outputs for a node with \(node.outputs.count)")
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let condition = try inputs.required(0, "cond")
        guard condition.count == 1 else {
            throw CNNVizError(.shapeMismatch, "If's condition must hold one value, found shape \(condition.shape)")
        }
        var given = [String: Tensor]()
        for (name, tensor) in zip(implicitNames, inputs.dropFirst()) { given[name] = tensor }
        let (branch, outputs) = condition.integers[0] != 0 ? (thenBranch, thenOutputs) : (elseBranch, elseOutputs)
        let values = try branch.execute([:], keeping: Set(outputs), hooks: [:], given: given)
        return try outputs.map { try branch.value($0, in: values) }
    }
}
