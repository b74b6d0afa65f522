/// GatherElements: out has the shape of `indices`; out[i₀…iₖ…] = data[i₀…indices[i]…] with the
/// index replaced on `axis` (default 0). Negative indices count from the end.
/// Backward: `ElementCopying` (each gathered element's gradient goes back to its source).
struct GatherElements: ElementCopying {
    let axis: Int

    init(node: Node) throws { axis = try node.int("axis", default: 0) }

    func sources(_ dataShape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
        let indices = try inputs.required(1, "indices")
        guard indices.rank == dataShape.count else {
            throw CNNVizError(.shapeMismatch, "GatherElements' indices \(indices.shape) must have the rank of the data \(dataShape)")
        }
        let source = try AxisIndexing.offsets(dataShape, indices, axis: axis, op: "GatherElements")
        return (source, indices.shape)
    }
}
