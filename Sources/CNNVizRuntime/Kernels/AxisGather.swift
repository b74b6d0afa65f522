/// The data-movement kernel behind Transpose, Slice, Pad, Expand and Gather.
///
/// out[i₀,…,iₖ] = source[Σₐ tables[a][iₐ]], or `fill` when any table entry is negative.
/// Each table holds, for every output index along its axis, the source offset it contributes
/// (index × source stride); a negative entry marks a position outside the source (padding).
enum AxisGather {
    static func gather<T>(_ source: UnsafeBufferPointer<T>, tables: [[Int]], fill: T) -> [T] {
        let shape = tables.map(\.count)
        let count = shape.reduce(1, *)
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            defer { initialized = count }
            guard count > 0 else { return }
            let rank = shape.count
            if rank == 0 {
                out.baseAddress!.initialize(to: source[0])
                return
            }
            let inner = shape[rank - 1], innerTable = tables[rank - 1]
            let rows = count / inner
            Parallel.forChunks(rows, minimumPerWorker: max(1, 65536 / max(inner, 1))) { range in
                var index = RowIndex(shape: shape, row: range.lowerBound)
                for row in range {
                    var base = 0, outside = false
                    for axis in 0..<(rank - 1) {
                        let entry = tables[axis][index[axis]]
                        if entry < 0 { outside = true }
                        base += entry
                    }
                    let o = out.baseAddress! + row * inner
                    if outside {
                        o.initialize(repeating: fill, count: inner)
                    } else {
                        for i in 0..<inner {
                            let entry = innerTable[i]
                            (o + i).initialize(to: entry < 0 ? fill : source[base + entry])
                        }
                    }
                    index.advance()
                }
            }
        }
    }
}

extension Tensor {
    /// This tensor's values rearranged by per-axis offset tables (see `AxisGather`); positions
    /// outside the source take `fill`.
    func gathered(tables: [[Int]], fill: Float = 0) -> Tensor {
        let shape = tables.map(\.count)
        switch storage {
        case .float(let values):
            let result = values.withUnsafeBufferPointer { AxisGather.gather($0, tables: tables, fill: fill) }
            return Tensor(shape: shape, storage: .float(result), elementType: elementType)
        case .integer(let values):
            let result = values.withUnsafeBufferPointer { AxisGather.gather($0, tables: tables, fill: Int64(fill)) }
            return Tensor(shape: shape, storage: .integer(result), elementType: elementType)
        }
    }

    /// Offset tables that read this tensor unchanged along every axis.
    var identityTables: [[Int]] {
        zip(shape, Shape.strides(shape)).map { size, stride in (0..<size).map { $0 * stride } }
    }
}

extension Tensor {
    /// The adjoint of `gathered(tables:)`: a zero tensor of `sourceShape` into which every
    /// element of this tensor (shaped like the gather's output) is added at the source offset
    /// it was read from; fill positions (negative entries) contribute nothing.
    ///
    /// Pitfall: tables may read one source element many times (Expand, edge padding, repeated
    /// Gather indices), so the additions run on one thread.
    func scatterAdded(tables: [[Int]], into sourceShape: [Int]) -> Tensor {
        let shape = tables.map(\.count)
        precondition(shape.reduce(1, *) == count, "scatter of \(self.shape) through tables of \(shape)")
        var result = [Float](repeating: 0, count: sourceShape.reduce(1, *))
        guard count > 0 else { return Tensor(shape: sourceShape, floats: result, elementType: elementType) }
        if shape.isEmpty {
            result[0] += floats[0]
            return Tensor(shape: sourceShape, floats: result, elementType: elementType)
        }
        let rank = shape.count, inner = shape[rank - 1], innerTable = tables[rank - 1]
        withFloats { g in
            result.withUnsafeMutableBufferPointer { out in
                var index = RowIndex(shape: shape, row: 0)
                for row in 0..<(count / inner) {
                    var base = 0, outside = false
                    for axis in 0..<(rank - 1) {
                        let entry = tables[axis][index[axis]]
                        if entry < 0 { outside = true }
                        base += entry
                    }
                    if !outside {
                        for i in 0..<inner where innerTable[i] >= 0 { out[base + innerTable[i]] += g[row * inner + i] }
                    }
                    index.advance()
                }
            }
        }
        return Tensor(shape: sourceShape, floats: result, elementType: elementType)
    }
}

/// An op whose output is its first input rearranged by per-axis offset tables (Transpose,
/// Slice, Pad, Expand, Gather); its backward rule is the scatter-add through the same tables.
protocol AxisGatherOperator: Operator, Differentiable {
    /// The tables, the fill value, and the output shape (the tables' counts, or a reshape of them).
    func gatherPlan(_ inputs: [Tensor?]) throws -> (tables: [[Int]], fill: Float, shape: [Int])
}

extension AxisGatherOperator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let plan = try gatherPlan(inputs)
        return [x.gathered(tables: plan.tables, fill: plan.fill).reshaped(plan.shape)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "data"), g = try context.outputGradient
        let plan = try gatherPlan(context.inputs)
        return [g.reshaped(plan.tables.map(\.count)).scatterAdded(tables: plan.tables, into: x.shape)]
    }
}
