/// Slice: x[starts:ends:steps] along `axes`, with NumPy clamping.
///
/// Opset 10+: starts, ends, axes, steps are inputs 1–4; before: attributes (steps 1).
/// Negative starts/ends count from the end; they are clamped to [0, dim] for positive steps
/// and [−1, dim − 1] for negative ones (so INT64_MAX or INT64_MIN mean "to the end").
struct Slice: AxisGatherOperator {
    let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?

    init(node: Node, opset: Int) throws {
        if opset < 10 {
            guard let starts = try node.ints("starts"), let ends = try node.ints("ends") else {
                throw CNNVizError(.invalidAttribute, "Slice before opset 10 needs starts and ends attributes", location: node.location)
            }
            attributes = (starts, ends, try node.ints("axes"))
        } else {
            attributes = nil
        }
    }

    func gatherPlan(_ inputs: [Tensor?]) throws -> (tables: [[Int]], fill: Float, shape: [Int]) {
        let x = try inputs.required(0, "data")
        let starts: [Int64], ends: [Int64], axesGiven: [Int64]?, steps: [Int64]?
        if let attributes {
            starts = attributes.starts.map(Int64.init)
            ends = attributes.ends.map(Int64.init)
            axesGiven = attributes.axes?.map(Int64.init)
            steps = nil
        } else {
            starts = try inputs.required(1, "starts").integers
            ends = try inputs.required(2, "ends").integers
            axesGiven = inputs.optional(3)?.integers
            steps = inputs.optional(4)?.integers
        }
        let axes = axesGiven ?? (0..<Int64(starts.count)).map { $0 }
        guard starts.count == ends.count, axes.count == starts.count, steps == nil || steps!.count == starts.count else {
            throw CNNVizError(.shapeMismatch, "Slice starts \(starts), ends \(ends), axes \(axes) and steps \(steps ?? []) must have equal lengths")
        }
        let normalizedAxes = try axes.map { try Shape.normalizedAxis(Int($0), rank: x.rank) }
        guard Set(normalizedAxes).count == normalizedAxes.count else {
            throw CNNVizError(.invalidArgument, "Slice axes \(axes) name an axis twice (as axes \(normalizedAxes) of a rank-\(x.rank) input); each axis may appear once")
        }
        var tables = x.identityTables
        let strides = Shape.strides(x.shape)
        for (i, rawAxis) in axes.enumerated() {
            let axis = try Shape.normalizedAxis(Int(rawAxis), rank: x.rank)
            let dim = Int64(x.shape[axis])
            let step = steps?[i] ?? 1
            guard step != 0 else { throw CNNVizError(.invalidArgument, "Slice step must not be 0") }
            func clamp(_ value: Int64) -> Int64 {
                let v = value < 0 ? value &+ dim : value
                return step > 0 ? Swift.min(Swift.max(v, 0), dim) : Swift.min(Swift.max(v, -1), dim - 1)
            }
            let start = clamp(starts[i]), end = clamp(ends[i])
            // Element count ⌈(end − start)/step⌉, computed rather than stepped so that a huge step
            // (INT64_MAX) cannot overflow.
            let span = step > 0 ? end - start : start - end
            let magnitude = step == .min ? Int64.max : abs(step)
            let count = span <= 0 ? 0 : Int((span - 1) / magnitude + 1)
            tables[axis] = (0..<count).map { Int(start + Int64($0) * step) * strides[axis] }
        }
        return (tables, 0, tables.map(\.count))
    }
}
