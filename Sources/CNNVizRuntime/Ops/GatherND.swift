/// GatherND: indices of shape [B…, M…, k] pick slices data[b…, i₁…i_k, :] (B the batch_dims
/// leading axes shared with data); out shape = indices.shape[..<−1] + data.shape[B + k...].
struct GatherND: ElementCopying {
    let batchDims: Int

    init(node: Node) throws { batchDims = try node.int("batch_dims", default: 0) }

    func sources(_ dataShape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
        let indices = try inputs.required(1, "indices")
        let (slices, tail, shape) = try NDIndexing.slices(dataShape, indices, batchDims: batchDims, op: "GatherND")
        return (slices.flatMap { start in (0..<tail).map { start + $0 } }, shape)
    }
}
