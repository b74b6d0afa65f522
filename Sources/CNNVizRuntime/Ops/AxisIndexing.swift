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
