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
