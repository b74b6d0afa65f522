/// Einsum: the sum over every label that is not in the output of the product of the operands,
/// e.g. "bij,bjk->bik". Without "->" the output is the labels that appear once, in alphabetical
/// order. "..." stands for the same leading broadcast axes in every operand. A label repeated
/// within one operand reads its diagonal ("ii->i").
///
/// Naive loops over every combination of labels, accumulated in Double: meant for the small
/// contractions exported models use, not for large matrix products.
/// Backward: ∂L/∂operandₖ = Einsum(g and the other operands → operand k's labels), for operands
/// without repeated labels.
struct Einsum: Operator, Differentiable {
    let equation: String

    init(node: Node) throws { equation = try node.string("equation", default: "").replacingOccurrences(of: " ", with: "") }

    /// Operand label lists and output labels, with "..." expanded for the given ranks.
    func parse(_ ranks: [Int]) throws -> (operands: [[Character]], output: [Character]) {
        let sides = equation.components(separatedBy: "->")
        var operands = sides[0].components(separatedBy: ",").map { Array($0) }
        guard operands.count == ranks.count, sides.count <= 2 else {
            throw CNNVizError(.invalidAttribute, "Einsum equation '\(equation)' names \(operands.count) operands, found \(ranks.count) inputs")
        }
        let ellipsis = Array("...")
        var broadcastRank = 0
        for (i, labels) in operands.enumerated() where String(labels).contains("...") {
            broadcastRank = Swift.max(broadcastRank, ranks[i] - (labels.count - 3))
        }
        let placeholders = (0..<broadcastRank).map { Character(UnicodeScalar(0x3B1 + $0)!) }  // α, β, … never clash with a–z, A–Z
        func expand(_ labels: [Character], rank: Int) -> [Character] {
            guard let start = String(labels).range(of: "...") else { return labels }
            let offset = String(labels).distance(from: String(labels).startIndex, to: start.lowerBound)
            let count = rank - (labels.count - 3)
            return Array(labels[..<offset]) + placeholders.suffix(count) + Array(labels[(offset + ellipsis.count)...])
        }
        operands = operands.enumerated().map { expand($0.element, rank: ranks[$0.offset]) }
        for (labels, rank) in zip(operands, ranks) where labels.count != rank {
            throw CNNVizError(.shapeMismatch, "Einsum operand '\(String(labels))' has \(labels.count) labels for an input of rank \(rank)")
        }
        let output: [Character]
        if sides.count == 2 {
            output = expand(Array(sides[1]), rank: broadcastRank + sides[1].count - (sides[1].contains("...") ? 3 : 0))
        } else {
            let all = operands.flatMap { $0 }
            output = placeholders + all.filter { l in !placeholders.contains(l) && all.filter { $0 == l }.count == 1 }.sorted()
        }
        return (operands, output)
    }

    static func contract(_ operands: [([Float], [Character], [Int])], output: [Character], sizes: [Character: Int]) -> [Double] {
        let labels = Array(Set(sizes.keys)).sorted()
        let extents = labels.map { sizes[$0]! }
        let position = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let operandStrides = operands.map { values, own, shape -> [Int] in
            var strides = [Int](repeating: 0, count: labels.count)
            for (axis, stride) in Shape.strides(shape).enumerated() { strides[position[own[axis]]!] += stride }
            return strides
        }
        var outStrides = [Int](repeating: 0, count: labels.count)
        for (axis, stride) in Shape.strides(output.map { sizes[$0]! }).enumerated() { outStrides[position[output[axis]]!] = stride }
        var result = [Double](repeating: 0, count: output.map { sizes[$0]! }.reduce(1, *))
        var index = [Int](repeating: 0, count: labels.count)
        for _ in 0..<extents.reduce(1, *) {
            var product = 1.0
            for (k, operand) in operands.enumerated() { product *= Double(operand.0[Shape.offset(index, strides: operandStrides[k])]) }
            result[Shape.offset(index, strides: outStrides)] += product
            Shape.advance(&index, in: extents)
        }
        return result
    }

    func sizes(_ operands: [[Character]], _ shapes: [[Int]]) throws -> [Character: Int] {
        var sizes = [Character: Int]()
        for (labels, shape) in zip(operands, shapes) {
            for (label, extent) in zip(labels, shape) {
                if let known = sizes[label], known != extent, known != 1, extent != 1 {
                    throw CNNVizError(.shapeMismatch, "Einsum label '\(label)' has extents \(known) and \(extent)")
                }
                sizes[label] = Swift.max(sizes[label] ?? 1, extent)
            }
        }
        return sizes
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let tensors = try inputs.indices.map { try inputs.requiredFloat($0, "operand \($0)") }
        let (operands, output) = try parse(tensors.map(\.rank))
        let sizes = try sizes(operands, tensors.map(\.shape))
        let values = Einsum.contract(zip(tensors, operands).map { ($0.floats, $1, $0.shape) }, output: output, sizes: sizes)
        return [Tensor(shape: output.map { sizes[$0]! }, floats: values.map { Float($0) }, elementType: tensors[0].elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let tensors = try context.inputs.indices.map { try context.input($0, "operand \($0)") }
        let (operands, output) = try parse(tensors.map(\.rank))
        let sizes = try sizes(operands, tensors.map(\.shape))
        let g = try context.outputGradient
        return try operands.indices.map { k -> Tensor? in
            guard context.needs(k) else { return nil }
            guard Set(operands[k]).count == operands[k].count, zip(operands[k], tensors[k].shape).allSatisfy({ sizes[$0] == $1 }) else {
                throw CNNVizError(.unsupportedOperator, "the gradient of Einsum '\(equation)' for an operand with a repeated or broadcast label is not implemented")
            }
            var others = [([Float], [Character], [Int])]()
            for j in operands.indices where j != k { others.append((tensors[j].floats, operands[j], tensors[j].shape)) }
            others.append((g.floats, output, g.shape))
            let values = Einsum.contract(others, output: operands[k], sizes: sizes)
            return Tensor(shape: tensors[k].shape, floats: values.map { Float($0) }, elementType: tensors[k].elementType)
        }
    }
}
