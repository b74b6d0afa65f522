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

/// Shared by GatherElements and ScatterElements: for each element of `indices` (same rank as
/// the data), the flat data offset of its own position with the index on `axis` replaced by its
/// value; negative values count from the end, others out of range are an error.
enum AxisIndexing {
    static func offsets(_ dataShape: [Int], _ indices: Tensor, axis: Int, op: String) throws -> [Int] {
        let axis = try Shape.normalizedAxis(axis, rank: dataShape.count)
        let strides = Shape.strides(dataShape)
        var index = [Int](repeating: 0, count: indices.rank), result = [Int]()
        result.reserveCapacity(indices.count)
        for value in indices.integers {
            var position = Int(value)
            if position < 0 { position += dataShape[axis] }
            guard position >= 0, position < dataShape[axis] else {
                throw CNNVizError(.invalidArgument, "\(op) index \(value) is out of range for axis \(axis) of length \(dataShape[axis])")
            }
            var offset = 0
            for a in 0..<index.count { offset += (a == axis ? position : index[a]) * strides[a] }
            result.append(offset)
            Shape.advance(&index, in: indices.shape)
        }
        return result
    }
}

/// Shared by GatherND and ScatterND: each row of the last axis of `indices` names a slice of
/// data; the flat start of every such slice, the slice length, and the gathered shape.
enum NDIndexing {
    static func slices(_ dataShape: [Int], _ indices: Tensor, batchDims: Int, op: String) throws -> (starts: [Int], tail: Int, shape: [Int]) {
        guard let k = indices.shape.last, indices.rank >= 1, batchDims + k <= dataShape.count,
              Array(indices.shape.prefix(batchDims)) == Array(dataShape.prefix(batchDims)) else {
            throw CNNVizError(.shapeMismatch, "\(op)'s indices \(indices.shape) do not fit the data \(dataShape) with batch_dims \(batchDims)")
        }
        let strides = Shape.strides(dataShape)
        let batchCount = dataShape.prefix(batchDims).reduce(1, *)
        let tail = dataShape[(batchDims + k)...].reduce(1, *)
        let values = indices.integers
        let rows = values.count / Swift.max(k, 1)
        let rowsPerBatch = rows / Swift.max(batchCount, 1)
        var starts = [Int]()
        for row in 0..<(k == 0 ? indices.shape.dropLast().reduce(1, *) : rows) {
            let batch = row / Swift.max(rowsPerBatch, 1)
            var offset = 0, rest = batch
            for axis in stride(from: batchDims - 1, through: 0, by: -1) {
                offset += (rest % dataShape[axis]) * strides[axis]
                rest /= dataShape[axis]
            }
            for j in 0..<k {
                let axis = batchDims + j
                var position = Int(values[row * k + j])
                if position < 0 { position += dataShape[axis] }
                guard position >= 0, position < dataShape[axis] else {
                    throw CNNVizError(.invalidArgument, "\(op) index \(values[row * k + j]) is out of range for axis \(axis) of length \(dataShape[axis])")
                }
                offset += position * strides[axis]
            }
            starts.append(offset)
        }
        return (starts, tail, Array(indices.shape.dropLast()) + Array(dataShape[(batchDims + k)...]))
    }
}
