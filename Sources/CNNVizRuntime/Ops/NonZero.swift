/// NonZero: the indices of the non-zero elements, as a [rank, count] int64 tensor in
/// row-major order (`np.nonzero` stacked). The output shape depends on the values.
struct NonZero: Operator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let rank = x.rank
        var hits = [[Int]]()
        var index = [Int](repeating: 0, count: rank)
        let nonZero: (Int) -> Bool
        switch x.storage {
        case .float(let values): nonZero = { values[$0] != 0 }
        case .integer(let values): nonZero = { values[$0] != 0 }
        }
        for flat in 0..<x.count {
            if nonZero(flat) { hits.append(index) }
            Shape.advance(&index, in: x.shape)
        }
        if rank == 0 { return [Tensor(shape: [0, hits.count], integers: [])] }
        let values = (0..<rank).flatMap { axis in hits.map { Int64($0[axis]) } }
        return [Tensor(shape: [rank, hits.count], integers: values)]
    }
}
