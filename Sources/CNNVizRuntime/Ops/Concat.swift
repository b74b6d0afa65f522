/// Concat: joins tensors along `axis`; all other dimensions must agree.
struct Concat: Operator {
    let axis: Int

    init(node: Node) throws { axis = try node.int("axis", default: 1) }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw CNNVizError(.invalidModel, "Concat needs at least one input") }
        let a = try Shape.normalizedAxis(axis, rank: first.rank)
        for part in parts where part.rank != first.rank || zip(part.shape, first.shape).enumerated().contains(where: { $0.offset != a && $0.element.0 != $0.element.1 }) {
            throw CNNVizError(.shapeMismatch,
                              "Concat inputs must agree except on axis \(a): \(parts.map { "\($0.shape)" }.joined(separator: ", "))")
        }
        guard parts.allSatisfy({ $0.isFloatingPoint == first.isFloatingPoint }) else {
            throw CNNVizError(.unsupportedDataType,
                              "Concat inputs must share one element type, found \(parts.map { $0.elementType.description }.joined(separator: " and "))")
        }
        var shape = first.shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *)
        let blocks = parts.map { $0.shape[a...].reduce(1, *) }
        if first.isFloatingPoint && parts.allSatisfy(\.isFloatingPoint) {
            let sources = parts.map { $0.floats }
            return [Tensor(shape: shape, floats: Concat.join(sources, blocks: blocks, outer: outer), elementType: first.elementType)]
        }
        let sources = parts.map { $0.integers }
        return [Tensor(shape: shape, integers: Concat.join(sources, blocks: blocks, outer: outer), elementType: first.elementType)]
    }

    /// Interleaves `outer` blocks of each source, in order. Each (outer, source) block is a
    /// copy job, and large blocks are cut into 64K-element pieces, so that a channel concat of
    /// a batch-1 activation (outer = 1) still uses every core.
    static func join<T>(_ sources: [[T]], blocks: [Int], outer: Int) -> [T] {
        let total = blocks.reduce(0, +)
        let piece = 1 << 16
        var jobs = [(source: Int, o: Int, start: Int, count: Int)]()
        for o in 0..<outer {
            for (index, block) in blocks.enumerated() {
                var start = 0
                while start < block {
                    jobs.append((index, o, start, min(piece, block - start)))
                    start += piece
                }
            }
        }
        let offsets = blocks.reduce(into: [0]) { $0.append($0.last! + $1) }
        return [T](unsafeUninitializedCapacity: total * outer) { buffer, initialized in
            let out = buffer.baseAddress!
            let copy = { (job: (source: Int, o: Int, start: Int, count: Int)) in
                sources[job.source].withUnsafeBufferPointer { s in
                    (out + job.o * total + offsets[job.source] + job.start)
                        .initialize(from: s.baseAddress! + job.o * blocks[job.source] + job.start, count: job.count)
                }
            }
            if total * outer < piece || jobs.count == 1 {
                jobs.forEach(copy)
            } else {
                Parallel.forEach(jobs.count) { copy(jobs[$0]) }
            }
            initialized = total * outer
        }
    }
}

/// Split: cuts a tensor along `axis` into parts given by `split` (attribute before opset 13,
/// input 1 after), or into `num_outputs` (opset 18) / one part per output of equal size,
/// the last part smaller when the size does not divide.
struct Split: Operator {
    let axis: Int
    let attributeSplit: [Int]?
    let outputCount: Int

    init(node: Node, opset: Int) throws {
        axis = try node.int("axis", default: 0)
        attributeSplit = try node.ints("split")
        outputCount = node.outputs.count
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let a = try Shape.normalizedAxis(axis, rank: x.rank)
        let size = x.shape[a]
        let parts: [Int]
        if let split = attributeSplit ?? inputs.optional(1)?.integers.map({ Int($0) }) {
            parts = split
        } else {
            let chunk = (size + outputCount - 1) / max(outputCount, 1)
            parts = (0..<outputCount).map { max(0, min(chunk, size - $0 * chunk)) }
        }
        guard parts.allSatisfy({ $0 >= 0 && $0 <= size }), parts.reduce(0, +) == size else {
            throw CNNVizError(.shapeMismatch, "Split sizes \(parts) do not add up to dimension \(a) of \(x.shape)")
        }
        var start = 0
        return parts.map { length in
            var tables = x.identityTables
            tables[a] = Array(tables[a][start..<start + length])
            start += length
            return x.gathered(tables: tables)
        }
    }
}

extension Concat: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// ∂L/∂xᵢ is the slab of ∂L/∂y that xᵢ filled along the axis; times [xᵢ > 0] for a slot
    /// whose ReLU's mask this copy applies (`MasksRectifiedInputs`).
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient
        let a = try Shape.normalizedAxis(axis, rank: g.rank)
        let outer = g.shape[..<a].reduce(1, *), inner = g.shape[(a + 1)...].reduce(1, *)
        let total = g.shape[a] * inner
        var start = 0
        return g.withFloats { gp in
            context.inputs.enumerated().map { slot, x in
                guard let x else { return nil }
                defer { start += x.shape[a] }
                guard context.needs(slot) else { return nil }
                let block = x.shape[a] * inner, offset = start * inner
                // Block copies: for each outer index, the contiguous run that x filled; the
                // outer indices (a batch's images) in parallel.
                let rectified = context.isRectified(slot)
                return x.withFloats { xp in
                    Tensor.filled(shape: x.shape, elementType: x.elementType) { out in
                        let (target, source) = (out.baseAddress!, gp.baseAddress!)
                        Parallel.forChunks(outer, minimumPerWorker: max(1, (1 << 16) / max(block, 1))) { range in
                            for o in range {
                                let (from, to) = (source + o * total + offset, target + o * block)
                                if rectified {
                                    Activations.passWherePositive(from, xp.baseAddress! + o * block, into: to, count: block)
                                } else {
                                    to.initialize(from: from, count: block)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Split: Differentiable {
    var backwardReads: BackwardReads { .inputsAndOutputs }

    /// ∂L/∂x is the output gradients joined along the axis, zeros for outputs without one.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "input")
        let a = try Shape.normalizedAxis(axis, rank: x.rank)
        let parts = try context.outputs.indices.map { index in context.gradient(index, shape: try context.output(index).shape) }
        let outer = x.shape[..<a].reduce(1, *)
        let joined = Concat.join(parts.map(\.floats), blocks: parts.map { $0.shape[a...].reduce(1, *) }, outer: outer)
        return [Tensor(shape: x.shape, floats: joined, elementType: x.elementType)]
    }
}
