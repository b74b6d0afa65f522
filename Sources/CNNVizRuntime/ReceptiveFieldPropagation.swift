/// Carries receptive fields (see `ReceptiveField`) from the graph inputs through every node,
/// in topological order, reading each op's attributes from the operator the session built.
///
/// Per op:
/// - Conv, MaxPool, AveragePool: the closed form, with pads resolved by `WindowGeometry`
///   (so `auto_pad` SAME_UPPER/SAME_LOWER put the odd padding pixel where the runtime does).
/// - GlobalAveragePool, GlobalMaxPool, InstanceNormalization, a Reduce or Softmax over spatial
///   axes: global — the union of the input units' fields, one unit per axis.
/// - Activations, BatchNormalization, LRN, Dropout, Identity, Cast: unchanged.
/// - Add, Mul, Sum, Max, … and Concat along channels: the union of the branches' fields
///   (see `ReceptiveField.union`); constant operands do not count.
/// - Pad: start moves back by the leading pad; reflect/edge/wrap padding is marked approximate.
/// - Resize/Upsample (approximate): the jump is divided by the scale factor out/in, the size
///   grows by (taps − 1)·j (nearest 1 tap, linear 2, cubic 4) and the start moves to the source
///   coordinate of output unit 0. Pitfall: nearest upsampling repeats units, so the true field
///   of a unit steps in blocks of the scale factor rather than by the fractional jump.
/// - ConvTranspose: not computed (nil): an output unit gathers a number of input units that
///   depends on its position modulo the stride, so no single (r, j, start) describes them.
/// - Transpose between NHWC and NCHW (perm [0, 3, 1, 2] or [0, 2, 3, 1]): unchanged, since H
///   stays before W; so an NHWC input (tf2onnx, Keras) is traced through its layout Transpose.
///   Other permutations: nil with a note.
/// - Flatten, Gemm, Reshape and anything with fewer than 3 dimensions: non-spatial (nil).
/// Anything else with a spatial output is nil with a note naming the op.
public enum ReceptiveFieldPropagation {
    /// A tensor's field (nil when non-spatial or not computed) and why, where there is a reason to give.
    public struct Entry: Sendable, Equatable {
        public var field: ReceptiveField?
        public var note: String?

        public init(field: ReceptiveField? = nil, note: String? = nil) {
            self.field = field
            self.note = note
        }
    }

    static let shapeOnlyOps: Set<String> = ["Shape", "Size"]
    static let unchangedOps = ShapeInference.sameShapeOps.subtracting(["InstanceNormalization", "Softmax", "LogSoftmax"])

    /// The entry for every tensor whose values depend on a graph input; tensors computed from
    /// constants or from shapes alone have none.
    /// - Parameter shapes: every tensor's shape, from a forward pass.
    public static func entries(of session: Session, shapes: [String: [Int]]) throws -> [String: Entry] {
        let graph = session.graph
        var entries = [String: Entry]()
        for input in graph.inputs {
            let rank = (shapes[input.name] ?? input.staticShape)?.count ?? 0
            entries[input.name] = Entry(field: rank >= 3 ? .input(spatialRank: rank - 2) : nil)
        }
        for (index, node) in graph.nodes.enumerated() {
            let live = node.inputs.filter { !$0.isEmpty && entries[$0] != nil }
            // Shape and Size read only the dimensions, which do not change with the pixels.
            guard !live.isEmpty, !shapeOnlyOps.contains(node.opType) else { continue }
            let entry: Entry
            do {
                entry = try step(node, session.operators[index], live: live, entries: entries, shapes: shapes, graph: graph)
            } catch let error as CNNVizError {
                throw error.located(at: node.location).located(at: session.model.source)
            }
            for output in node.outputs where !output.isEmpty { entries[output] = entry }
        }
        return entries
    }

    static func step(_ node: Node, _ op: any Operator, live: [String], entries: [String: Entry], shapes: [String: [Int]],
                     graph: Graph) throws -> Entry {
        guard let outShape = node.outputs.first.flatMap({ shapes[$0] }), outShape.count >= 3 else { return Entry() }
        let spatialRank = outShape.count - 2
        let fields = live.compactMap { entries[$0]?.field }
        guard fields.count == live.count, fields.allSatisfy({ $0.axes.count == spatialRank }) else {
            return Entry(note: "not traced: an input of \(node.opType) has no field over its \(spatialRank) spatial axes")
        }
        let inputSpatial = shapes[node.inputs[0]].map { Array($0.dropFirst(2)) } ?? []
        let x = entries[node.inputs[0]]?.field
        switch node.opType {
        case "Transpose":
            guard let x, let perm = (op as? Transpose)?.permutation, perm == [0, 3, 1, 2] || perm == [0, 2, 3, 1] else {
                return Entry(note: "not traced through a Transpose other than NHWC ↔ NCHW")
            }
            return Entry(field: x)
        case "Conv", "MaxPool", "AveragePool":
            guard let x, let attributes = (op as? Conv)?.window ?? (op as? Pool)?.window else { break }
            let weightShape = node.inputs.count > 1 ? graph.initializers[node.inputs[1]]?.shape ?? shapes[node.inputs[1]] : nil
            guard let kernel = attributes.kernel ?? weightShape.map({ Array($0.dropFirst(2)) }) else { break }
            return Entry(field: x.through(try WindowGeometry(input: inputSpatial, kernel: kernel, attributes: attributes)))
        case "ConvTranspose":
            return Entry(note: "not computed for ConvTranspose: an output unit's inputs depend on its position modulo the stride")
        case "GlobalAveragePool", "GlobalMaxPool":
            guard let x else { break }
            return Entry(field: x.global(over: inputSpatial))
        case "InstanceNormalization":
            guard let x else { break }
            return global(x, over: inputSpatial, note: "normalised with whole-map statistics")
        case "Softmax", "LogSoftmax":
            guard let x, let softmax = op as? Softmax else { break }
            let axis = try Shape.normalizedAxis(softmax.axis, rank: outShape.count)
            if softmax.coercesTo2D || axis >= 2 { return global(x, over: inputSpatial, note: "softmax over spatial axes") }
            return Entry(field: x)
        case "ReduceMean", "ReduceMax", "ReduceSum":
            guard let x, let reduce = op as? Reduce, reduce.keepDimensions else { break }
            var axes = reduce.attributeAxes ?? (node.inputs.count > 1 ? graph.initializers[node.inputs[1]]?.integers.map { Int($0) } : nil) ?? []
            if axes.isEmpty && reduce.noopWithEmptyAxes { return Entry(field: x) }
            if axes.isEmpty { axes = Array(0..<outShape.count) }
            let reduced = Set(try axes.map { try Shape.normalizedAxis($0, rank: outShape.count) })
            if reduced.allSatisfy({ $0 < 2 }) { return Entry(field: x) }
            return global(x, over: inputSpatial, note: "reduced over spatial axes")
        case "Pad":
            guard let x, let pad = op as? Pad, node.inputs.count < 4 || node.inputs[3].isEmpty,
                  let pads = pad.attributePads ?? (node.inputs.count > 1 ? graph.initializers[node.inputs[1]]?.integers.map({ Int($0) }) : nil),
                  pads.count == 2 * outShape.count else { break }
            var field = x
            for axis in 0..<spatialRank { field.axes[axis].start -= Double(pads[2 + axis]) * field.axes[axis].jump }
            guard pad.mode == "constant" else {
                field.isApproximate = true
                return Entry(field: field, note: "\(pad.mode) padding repeats image pixels; the field is the zero-padding one")
            }
            return Entry(field: field)
        case "Resize", "Upsample":
            guard let x, let resize = op as? Resize else { break }
            return resized(x, resize, from: inputSpatial, to: Array(outShape.dropFirst(2)))
        case "Concat":
            guard let concat = op as? Concat else { break }
            if try Shape.normalizedAxis(concat.axis, rank: outShape.count) >= 2 {
                return Entry(note: "not computed: Concat along a spatial axis")
            }
            return merged(fields, shapes: live.map { shapes[$0] }, outShape: outShape)
        default:
            if unchangedOps.contains(node.opType), let x { return Entry(field: x) }
            if ShapeInference.broadcastingOps.contains(node.opType) {
                return merged(fields, shapes: live.map { shapes[$0] }, outShape: outShape)
            }
        }
        return Entry(note: "not computed for \(node.opType)")
    }

    static func global(_ field: ReceptiveField, over spatialShape: [Int], note: String) -> Entry {
        Entry(field: field.global(over: spatialShape), note: field.isGlobal ? nil : note)
    }

    /// Branches joined elementwise; a non-global branch broadcast along a spatial axis makes the field approximate.
    static func merged(_ fields: [ReceptiveField], shapes: [[Int]?], outShape: [Int]) -> Entry {
        guard let union = ReceptiveField.union(fields) else {
            return Entry(note: "not computed: branches with different spatial ranks")
        }
        var (field, note) = union
        let broadcast = zip(fields, shapes).contains { !$0.isGlobal && $1.map { Array($0.dropFirst(2)) } != Array(outShape.dropFirst(2)) }
        if broadcast && !field.isGlobal {
            field.isApproximate = true
            note = [note, "a branch is broadcast along a spatial axis"].compactMap { $0 }.joined(separator: "; ")
        }
        return Entry(field: field, note: note)
    }

    /// Resize and Upsample, approximately: see the type's documentation.
    static func resized(_ x: ReceptiveField, _ resize: Resize, from input: [Int], to output: [Int]) -> Entry {
        guard resize.coordinateMode != "tf_crop_and_resize" else {
            return Entry(note: "not computed for Resize with tf_crop_and_resize")
        }
        let taps: Double = switch resize.mode {
        case .nearest: 1
        case .linear: 2
        case .cubic: 4
        }
        var field = x
        field.isApproximate = true
        for axis in field.axes.indices where input[axis] != output[axis] {
            let (n, m) = (Double(input[axis]), Double(output[axis]))
            // Input units per output unit, and the source coordinate of output unit 0.
            let step: Double, origin: Double
            switch resize.coordinateMode {
            case "align_corners": (step, origin) = (m > 1 ? (n - 1) / (m - 1) : 0, 0)
            case "asymmetric": (step, origin) = (n / m, 0)
            default: (step, origin) = (n / m, n / m / 2 - 0.5)
            }
            let old = field.axes[axis]
            field.axes[axis] = .init(size: old.size + (taps - 1) * old.jump, jump: old.jump * step, start: old.start + origin * old.jump)
        }
        return Entry(field: field, note: "approximate through Resize: jump × in/out, size + (taps − 1)·jump")
    }
}
