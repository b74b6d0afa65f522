/// Index arithmetic shared by the selection ops (Where, Tile, Trilu, the Gather/Scatter family,
/// TopK, DepthToSpace, …): each of them computes, for every output element, the flat index of
/// the input element it copies, and `picking` does the copy for any storage kind.
extension Tensor {
    /// out[i] = self[source[i]], or `fill` where source[i] < 0; the element type is kept.
    public func picking(_ source: [Int], shape: [Int], fill: Float = 0) -> Tensor {
        switch storage {
        case .float(let values):
            return Tensor(shape: shape, floats: source.map { $0 < 0 ? fill : values[$0] }, elementType: elementType)
        case .integer(let values):
            let integerFill = Int64(fill)
            return Tensor(shape: shape, integers: source.map { $0 < 0 ? integerFill : values[$0] }, elementType: elementType)
        }
    }

    /// out[target[i]] += self[i] over a zero tensor of `shape`: the adjoint of `picking`
    /// (indices < 0 are dropped), for the backward rules of copying ops.
    public func scatterAdding(to target: [Int], shape: [Int]) -> Tensor {
        var sums = [Double](repeating: 0, count: shape.reduce(1, *))
        let values = floats
        for (i, t) in target.enumerated() where t >= 0 { sums[t] += Double(values[i]) }
        return Tensor(shape: shape, floats: sums.map { Float($0) }, elementType: elementType)
    }

    /// Any tensor, float or integer, repeated along broadcast axes to `target`.
    public func broadcastAny(to target: [Int]) -> Tensor {
        shape == target ? self : picking(Shape.broadcastSourceIndices(shape, to: target), shape: target)
    }
}

extension Shape {
    /// For each element of `target` in row-major order, the flat index in a tensor of `shape`
    /// that broadcasts onto it.
    public static func broadcastSourceIndices(_ shape: [Int], to target: [Int]) -> [Int] {
        let strides = broadcastStrides(shape, to: target)
        var result = [Int](), index = [Int](repeating: 0, count: target.count)
        let count = target.reduce(1, *)
        result.reserveCapacity(count)
        for _ in 0..<count {
            var offset = 0
            for axis in 0..<target.count { offset += index[axis] * strides[axis] }
            result.append(offset)
            advance(&index, in: target)
        }
        return result
    }

    /// Steps a row-major multi-index to the next element of `shape` (wrapping at the end).
    @inline(__always)
    public static func advance(_ index: inout [Int], in shape: [Int]) {
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { return }
            index[axis] = 0
            axis -= 1
        }
    }

    /// A shape seen around one axis: the product of the dims before it, the axis's length,
    /// and the product of the dims after it. Element (o, i, j) is at (o·length + i)·inner + j.
    public static func around(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Reducing `axes` of `shape`: the shape with them kept as 1, and for each element (row-major)
    /// the flat index of the reduced element it falls into.
    public static func reductionGroups(_ shape: [Int], reducing axes: Set<Int>) -> (kept: [Int], group: [Int]) {
        let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let strides = broadcastStrides(kept, to: shape)
        var group = [Int](), index = [Int](repeating: 0, count: shape.count)
        let count = shape.reduce(1, *)
        group.reserveCapacity(count)
        for _ in 0..<count {
            group.append(offset(index, strides: strides))
            advance(&index, in: shape)
        }
        return (kept, group)
    }

    /// The flat row-major offset of a multi-index.
    @inline(__always)
    public static func offset(_ index: [Int], strides: [Int]) -> Int {
        var offset = 0
        for axis in 0..<index.count { offset += index[axis] * strides[axis] }
        return offset
    }
}
