/// Reshape: the same values under the shape given by input 1, where 0 copies the input's
/// dimension (unless allowzero = 1) and one −1 is inferred.
struct Reshape: ValuePreservingOperator {
    let allowZero: Bool
    let attributeShape: [Int]?

    init(node: Node) throws {
        allowZero = try node.int("allowzero", default: 0) != 0
        attributeShape = try node.ints("shape")
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let requested = try attributeShape ?? inputs.required(1, "shape").integers.map { Int($0) }
        var shape = requested.enumerated().map { index, dim in
            dim == 0 && !allowZero && index < x.rank ? x.shape[index] : dim
        }
        guard shape.filter({ $0 == -1 }).count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw CNNVizError(.shapeMismatch, "Reshape shape \(requested) may hold at most one -1 and no other negative value")
        }
        let known = try Shape.checkedCount(shape.filter { $0 != -1 })
        if let unknown = shape.firstIndex(of: -1) {
            guard known > 0, x.count % known == 0 else {
                throw CNNVizError(.shapeMismatch, "cannot reshape \(x.shape) (\(x.count) values) to \(requested)")
            }
            shape[unknown] = x.count / known
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == x.count else {
            throw CNNVizError(.shapeMismatch, "cannot reshape \(x.shape) (\(x.count) values) to \(requested)")
        }
        return [x.reshaped(shape)]
    }
}

/// Flatten: [d₀…dₐ₋₁, dₐ…] → [∏ d₀…dₐ₋₁, ∏ dₐ…].
struct Flatten: ValuePreservingOperator {
    let axis: Int

    init(node: Node) throws { axis = try node.int("axis", default: 1) }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let a = axis < 0 ? axis + x.rank : axis
        guard a >= 0 && a <= x.rank else {
            throw CNNVizError(.invalidAttribute, "Flatten axis \(axis) is out of range for rank \(x.rank)")
        }
        return [x.reshaped([x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])]
    }
}

/// Squeeze: removes the given size-1 axes (attribute before opset 13, input 1 after), or all of them.
struct Squeeze: ValuePreservingOperator {
    let attributeAxes: [Int]?

    init(node: Node) throws { attributeAxes = try node.ints("axes") }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        guard let axes = attributeAxes ?? inputs.optional(1)?.integers.map({ Int($0) }) else {
            return [x.reshaped(x.shape.filter { $0 != 1 })]
        }
        let removed = Set(try axes.map { try Shape.normalizedAxis($0, rank: x.rank) })
        for axis in removed where x.shape[axis] != 1 {
            throw CNNVizError(.shapeMismatch, "Squeeze axis \(axis) of \(x.shape) has size \(x.shape[axis]), expected 1")
        }
        return [x.reshaped(x.shape.enumerated().filter { !removed.contains($0.offset) }.map(\.element))]
    }
}

/// Unsqueeze: inserts size-1 axes at the given positions of the output.
struct Unsqueeze: ValuePreservingOperator {
    let attributeAxes: [Int]?

    init(node: Node) throws { attributeAxes = try node.ints("axes") }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let axes = try attributeAxes ?? inputs.required(1, "axes").integers.map { Int($0) }
        let rank = x.rank + axes.count
        let inserted = Set(try axes.map { try Shape.normalizedAxis($0, rank: rank) })
        guard inserted.count == axes.count else {
            throw CNNVizError(.invalidAttribute, "Unsqueeze axes \(axes) repeat an axis")
        }
        var source = x.shape.makeIterator()
        return [x.reshaped((0..<rank).map { inserted.contains($0) ? 1 : source.next()! })]
    }
}

/// Transpose: out.shape[i] = in.shape[perm[i]] (perm defaults to reversed axes).
struct Transpose: AxisGatherOperator {
    let permutation: [Int]?

    init(node: Node) throws { permutation = try node.ints("perm") }

    func gatherPlan(_ inputs: [Tensor?]) throws -> (tables: [[Int]], fill: Float, shape: [Int]) {
        let x = try inputs.required(0, "data")
        let perm = permutation ?? Array((0..<x.rank).reversed())
        guard perm.sorted() == Array(0..<x.rank) else {
            throw CNNVizError(.invalidAttribute, "Transpose perm \(perm) is not a permutation of the \(x.rank) axes of \(x.shape)")
        }
        let strides = Shape.strides(x.shape)
        return (perm.map { axis in (0..<x.shape[axis]).map { $0 * strides[axis] } }, 0, perm.map { x.shape[$0] })
    }
}

/// Expand: broadcasts the input to shape (input 1) under NumPy rules.
struct Expand: AxisGatherOperator {
    func gatherPlan(_ inputs: [Tensor?]) throws -> (tables: [[Int]], fill: Float, shape: [Int]) {
        let x = try inputs.required(0, "input")
        let requested = try inputs.required(1, "shape").integers.map { Int($0) }
        guard requested.allSatisfy({ $0 >= 0 }) else {
            throw CNNVizError(.shapeMismatch, "Expand shape \(requested) has a negative dimension")
        }
        let shape = try Shape.broadcast(x.shape, requested)
        _ = try Shape.checkedCount(shape)
        let strides = Shape.broadcastStrides(x.shape, to: shape)
        return (zip(shape, strides).map { size, stride in (0..<size).map { $0 * stride } }, 0, shape)
    }
}

/// Ops whose output holds the input's values unchanged (Reshape, Flatten, Squeeze, Unsqueeze,
/// Identity, inference Dropout, float-to-float Cast): ∂L/∂x is ∂L/∂y under x's shape.
protocol ValuePreservingOperator: Operator, Differentiable {}

extension ValuePreservingOperator {
    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "input"), g = try context.outputGradient
        return [g.reshaped(x.shape).relabelled(as: x.elementType)]
    }
}
