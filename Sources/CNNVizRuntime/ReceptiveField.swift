import Foundation

/// The receptive field of a tensor: per spatial axis (H, W, …), how many input pixels one of
/// its units sees (`size`), how far apart neighbouring units' fields are in input pixels
/// (`jump`, the cumulative stride) and where the first unit's field is centred (`start`).
///
/// Closed form (Dumoulin & Visin; Araujo et al., "Computing receptive fields of CNNs",
/// Distill 2019), per axis, for a window op with kernel k, stride s, leading pad p and
/// dilation d applied to a tensor with field (r, j, start):
///
///     k_eff = d·(k − 1) + 1
///     r′ = r + (k_eff − 1)·j      j′ = j·s      start′ = start + ((k_eff − 1)/2 − p)·j
///
/// The graph input has r = 1, j = 1, start = 0.
///
/// Convention: coordinates are pixel indices, pixel i being centred at i. Unit u of the tensor
/// then sees the input pixels start + u·j ± (r − 1)/2 (both ends are whole numbers, even when
/// r is even and start is a half), clipped to the image. Pitfall: the other common convention
/// puts pixel i's centre at i + ½ (start = 0.5 for the input), which shifts every start by ½;
/// the two are easy to mix up when comparing with published tables.
///
/// Pitfalls of the closed form itself: it gives the theoretical field, as if the padded maps
/// went on forever. Near the borders the field is clipped to the image, and a floor-mode
/// window op that leaves trailing pixels of its input unused (e.g. a 3×3 stride-2 conv without
/// padding on an even size) takes those pixels out of every field. A unit's gradient is
/// usually concentrated near the centre of its field (the "effective" field is smaller).
public struct ReceptiveField: Sendable, Equatable {
    /// The field along one spatial axis.
    public struct Axis: Sendable, Equatable {
        /// Input pixels seen by one unit: r.
        public var size: Double
        /// Input pixels between neighbouring units: j, the product of the strides so far.
        public var jump: Double
        /// Centre of unit 0's field, in input pixel indices (pixel i centred at i).
        public var start: Double

        public init(size: Double, jump: Double, start: Double) {
            self.size = size
            self.jump = jump
            self.start = start
        }

        /// The input pixel indices that unit `unit` sees along this axis, before clipping to the image.
        public func window(ofUnit unit: Int) -> ClosedRange<Double> {
            let centre = start + Double(unit) * jump
            return (centre - (size - 1) / 2)...(centre + (size - 1) / 2)
        }

        /// One sliding window (Conv, MaxPool, AveragePool): the closed form above.
        func throughWindow(kernel: Int, stride: Int, padBegin: Int, dilation: Int) -> Axis {
            let extent = Double(dilation * (kernel - 1) + 1)
            return Axis(size: size + (extent - 1) * jump, jump: jump * Double(stride),
                        start: start + ((extent - 1) / 2 - Double(padBegin)) * jump)
        }

        /// A window covering the whole axis of `extent` units, with a single output unit.
        func throughWholeAxis(extent: Int) -> Axis {
            throughWindow(kernel: max(extent, 1), stride: max(extent, 1), padBegin: 0, dilation: 1)
        }
    }

    /// One entry per spatial axis, in the tensor's order (H, W for NCHW).
    public var axes: [Axis]
    /// The field spans an entire spatial extent (global pooling, or anything after it).
    public var isGlobal: Bool
    /// Some op on the way (Resize, branches with different jumps, …) made the numbers approximate.
    public var isApproximate: Bool

    public init(axes: [Axis], isGlobal: Bool = false, isApproximate: Bool = false) {
        self.axes = axes
        self.isGlobal = isGlobal
        self.isApproximate = isApproximate
    }

    /// A graph input with `spatialRank` spatial axes: each pixel sees itself.
    public static func input(spatialRank: Int) -> ReceptiveField {
        ReceptiveField(axes: [Axis](repeating: Axis(size: 1, jump: 1, start: 0), count: spatialRank))
    }

    /// The field after a window op whose geometry is resolved (pads after `auto_pad`).
    /// ceil_mode changes only the number of output units: the extra last unit's window runs
    /// into the end padding and its field is clipped to the image like any other.
    func through(_ geometry: WindowGeometry) -> ReceptiveField {
        var result = self
        result.axes = axes.indices.map {
            axes[$0].throughWindow(kernel: geometry.kernel[$0], stride: geometry.strides[$0],
                                   padBegin: geometry.padsBegin[$0], dilation: geometry.dilations[$0])
        }
        return result
    }

    /// The field after an op that reads a whole spatial extent of `spatialShape` (global
    /// pooling, instance normalisation): the union of the input units' fields, marked global.
    func global(over spatialShape: [Int]) -> ReceptiveField {
        ReceptiveField(axes: zip(axes, spatialShape).map { $0.throughWholeAxis(extent: $1) }, isGlobal: true,
                       isApproximate: isApproximate)
    }

    /// The field of an elementwise combination of branches (Add, Mul, Concat on channels, …):
    /// per axis, the union of the branches' windows of unit 0. When the branches are centred
    /// alike this is the largest field. When their jumps differ the units do not line up; the
    /// larger jump is kept, the result is marked approximate and the note says so.
    /// Nil when the branches have different numbers of spatial axes.
    static func union(_ branches: [ReceptiveField]) -> (field: ReceptiveField, note: String?)? {
        guard let first = branches.first else { return nil }
        guard branches.count > 1 else { return (first, nil) }
        guard branches.allSatisfy({ $0.axes.count == first.axes.count }) else { return nil }
        var notes = [String]()
        var result = ReceptiveField(axes: [], isGlobal: branches.contains { $0.isGlobal },
                                    isApproximate: branches.contains { $0.isApproximate })
        for axis in first.axes.indices {
            let parts = branches.map { $0.axes[axis] }
            let low = parts.map { $0.window(ofUnit: 0).lowerBound }.min()!
            let high = parts.map { $0.window(ofUnit: 0).upperBound }.max()!
            let jumps = Set(parts.map(\.jump))
            if jumps.count > 1 {
                result.isApproximate = true
                notes.append("branches have jumps \(jumps.sorted().map(ReceptiveField.format).joined(separator: ", ")) on axis \(axis); the largest is kept")
            }
            result.axes.append(Axis(size: high - low + 1, jump: jumps.max()!, start: (low + high) / 2))
        }
        return (result, notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// A number as a person writes it: `435`, `15.5`, `0.3333`.
    public static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.4g", value)
    }
}

/// `{"size": [h, w], "jump": [h, w], "start": [h, w], "global": bool, "approximate": bool}`, per spatial axis.
extension ReceptiveField: Encodable {
    enum CodingKeys: String, CodingKey { case size, jump, start, global, approximate }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(axes.map(\.size), forKey: .size)
        try container.encode(axes.map(\.jump), forKey: .jump)
        try container.encode(axes.map(\.start), forKey: .start)
        try container.encode(isGlobal, forKey: .global)
        try container.encode(isApproximate, forKey: .approximate)
    }
}
