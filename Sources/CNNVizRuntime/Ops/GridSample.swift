import Foundation

/// GridSample: samples X [N, C, D₁…D_k] (k = 1, 2 or 3 spatial axes) at the points of
/// grid [N, O₁…O_k, k], whose last axis holds normalised coordinates (x, y, z) ∈ [−1, 1], x
/// along the last spatial axis. Modes: linear (opset 16's "bilinear"), nearest (halves to
/// even) and cubic ("bicubic", 2-D, A = −0.75); padding zeros, border or reflection;
/// align_corners maps ±1 to the centres (1) or the outer edges (0) of the corner pixels:
///   pixel = (u + 1)/2·(size − 1)  or  ((u + 1)·size − 1)/2.
/// Border clamps, and reflection folds, the coordinate before interpolation; the taps of the
/// kernel are then read with the same padding rule, as the ONNX reference does.
///
/// Backward (linear mode): ∂L/∂X scatters g·wₜ to each tap; ∂L/∂grid = g·Σₜ X[t]·∂wₜ/∂pixel ·
/// ∂pixel/∂u, with ∂pixel/∂u = (size − 1)/2 or size/2, times the clamp's or fold's slope.
struct GridSample: Operator, Differentiable {
    enum Mode { case linear, nearest, cubic }
    enum Padding: String { case zeros, border, reflection }
    let mode: Mode
    let padding: Padding
    let alignCorners: Bool

    init(node: Node) throws {
        switch try node.string("mode", default: "linear") {
        case "linear", "bilinear": mode = .linear
        case "nearest": mode = .nearest
        case "cubic", "bicubic": mode = .cubic
        case let other: throw CNNVizError(.invalidAttribute, "GridSample mode '\(other)' is not linear, nearest or cubic")
        }
        let paddingName = try node.string("padding_mode", default: "zeros")
        guard let padding = Padding(rawValue: paddingName) else {
            throw CNNVizError(.invalidAttribute, "GridSample padding_mode '\(paddingName)' is not zeros, border or reflection")
        }
        self.padding = padding
        alignCorners = try node.int("align_corners", default: 0) != 0
    }

    /// The pixel coordinate of a normalised one, after border clamping or reflection, with its
    /// derivative.
    func pixel(_ u: Double, size: Int) -> (Double, Double) {
        let n = Double(size)
        var x = alignCorners ? (u + 1) / 2 * (n - 1) : ((u + 1) * n - 1) / 2
        var slope = alignCorners ? (n - 1) / 2 : n / 2
        switch padding {
        case .zeros: break
        case .border:
            if x < 0 || x > n - 1 { slope = 0 }
            x = Swift.min(Swift.max(x, 0), n - 1)
        case .reflection:
            let (low, high) = alignCorners ? (0.0, n - 1) : (-0.5, n - 0.5)
            (x, slope) = reflect(x, low, high, slope)
        }
        return (x, slope)
    }

    func reflect(_ x: Double, _ low: Double, _ high: Double, _ slope: Double) -> (Double, Double) {
        let range = high - low
        guard range > 0 else { return (low, 0) }
        if x < low {
            let dx = low - x, n = (dx / range).rounded(.down), r = dx - n * range
            return Int(n) % 2 == 0 ? (low + r, -slope) : (high - r, slope)
        }
        if x > high {
            let dx = x - high, n = (dx / range).rounded(.down), r = dx - n * range
            return Int(n) % 2 == 0 ? (high - r, -slope) : (low + r, slope)
        }
        return (x, slope)
    }

    /// The index of integer tap i along an axis of `size`, or nil for a zero (padding zeros).
    func tap(_ i: Int, size: Int) -> Int? {
        if i >= 0 && i < size { return i }
        switch padding {
        case .zeros: return nil
        case .border: return Swift.min(Swift.max(i, 0), size - 1)
        case .reflection:
            let (low, high) = alignCorners ? (0.0, Double(size - 1)) : (-0.5, Double(size) - 0.5)
            return Swift.min(Swift.max(Int(reflect(Double(i), low, high, 1).0), 0), size - 1)
        }
    }

    /// Cubic convolution weights for the 4 taps around fraction t (A = −0.75).
    static func cubicWeights(_ t: Double) -> [Double] {
        let a = -0.75
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return [far(t + 1), near(t), near(1 - t), far(2 - t)]
    }

    /// One sampling point: for each spatial axis (in X's order), the taps with weight and
    /// d(weight)/d(pixel), and d(pixel)/d(u).
    struct Axis { var taps: [(index: Int?, weight: Double, slope: Double)]; var pixelSlope: Double }

    func axis(_ u: Double, size: Int) -> Axis {
        let (x, slope) = pixel(u, size: size)
        // A NaN or far-off coordinate reads padding (zeros or the border), never an integer conversion trap.
        guard x.isFinite, Swift.abs(x) < 1e9 else {
            return Axis(taps: [(padding == .zeros ? nil : tap(x.isNaN || x < 0 ? -1 : size, size: size), 1, 0)], pixelSlope: 0)
        }
        switch mode {
        case .nearest:
            return Axis(taps: [(tap(Int(x.rounded(.toNearestOrEven)), size: size), 1, 0)], pixelSlope: 0)
        case .linear:
            let low = x.rounded(.down), t = x - low
            return Axis(taps: [(tap(Int(low), size: size), 1 - t, -1), (tap(Int(low) + 1, size: size), t, 1)], pixelSlope: slope)
        case .cubic:
            let low = x.rounded(.down), weights = GridSample.cubicWeights(x - low)
            return Axis(taps: (0..<4).map { (tap(Int(low) - 1 + $0, size: size), weights[$0], 0) }, pixelSlope: 0)
        }
    }

    struct Plan { var n: Int, channels: Int, spatial: [Int], points: Int, grid: [Float] }

    func plan(_ x: Tensor, _ grid: Tensor) throws -> Plan {
        let k = x.rank - 2
        guard k >= 1, k <= 3, grid.rank == x.rank, grid.shape[0] == x.shape[0], grid.shape.last == k else {
            throw CNNVizError(.shapeMismatch, "GridSample needs X [N, C, D₁…D_k] and grid [N, O₁…O_k, k] with k ≤ 3, found \(x.shape) and \(grid.shape)")
        }
        if mode == .cubic && k != 2 { throw CNNVizError(.unsupportedOperator, "GridSample's cubic mode is defined for 2-D inputs only") }
        return Plan(n: x.shape[0], channels: x.shape[1], spatial: Array(x.shape[2...]), points: grid.shape[1..<(grid.rank - 1)].reduce(1, *),
                    grid: grid.floats)
    }

    /// Visits every (n, point) with its per-axis taps.
    func forEachPoint(_ p: Plan, _ body: (_ n: Int, _ point: Int, _ axes: [Axis]) -> Void) {
        let k = p.spatial.count
        for n in 0..<p.n {
            for point in 0..<p.points {
                let base = (n * p.points + point) * k
                // grid's coordinate j runs along spatial axis k − 1 − j.
                let axes = (0..<k).map { a in axis(Double(p.grid[base + (k - 1 - a)]), size: p.spatial[a]) }
                body(n, point, axes)
            }
        }
    }

    /// Every combination of one tap per axis: (flat spatial index or nil, weight, per-axis weight factors).
    func combinations(_ axes: [Axis], spatial: [Int]) -> [(index: Int?, weight: Double, choice: [Int])] {
        var result: [(Int?, Double, [Int])] = [(0, 1, [])]
        for (a, axis) in axes.enumerated() {
            result = result.flatMap { partial in
                axis.taps.enumerated().map { t, tap in
                    let index = partial.0.flatMap { base in tap.index.map { base * spatial[a] + $0 } }
                    return (index, partial.1 * tap.weight, partial.2 + [t])
                }
            }
        }
        return result
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X"), grid = try inputs.requiredFloat(1, "grid")
        let p = try plan(x, grid)
        let values = x.floats, plane = p.spatial.reduce(1, *)
        var out = [Float](repeating: 0, count: p.n * p.channels * p.points)
        forEachPoint(p) { n, point, axes in
            let taps = combinations(axes, spatial: p.spatial)
            for c in 0..<p.channels {
                let base = (n * p.channels + c) * plane
                var sum = 0.0
                for tap in taps { if let index = tap.index { sum += tap.weight * Double(values[base + index]) } }
                out[(n * p.channels + c) * p.points + point] = Float(sum)
            }
        }
        return [Tensor(shape: [p.n, p.channels] + Array(grid.shape[1..<(grid.rank - 1)]), floats: out, elementType: x.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        guard mode == .linear else {
            throw CNNVizError(.unsupportedOperator, "the gradient of GridSample is implemented for linear mode only (nearest and cubic are piecewise constant or rarely trained through)")
        }
        let x = try context.input(0, "X"), grid = try context.input(1, "grid"), g = try context.outputGradient.floats
        let p = try plan(x, grid)
        let values = x.floats, plane = p.spatial.reduce(1, *), k = p.spatial.count
        var dX = [Double](repeating: 0, count: values.count), dGrid = [Double](repeating: 0, count: grid.count)
        forEachPoint(p) { n, point, axes in
            let taps = combinations(axes, spatial: p.spatial)
            for c in 0..<p.channels {
                let base = (n * p.channels + c) * plane
                let gradient = Double(g[(n * p.channels + c) * p.points + point])
                guard gradient != 0 else { continue }
                for tap in taps {
                    guard let index = tap.index else { continue }
                    dX[base + index] += gradient * tap.weight
                    let value = Double(values[base + index])
                    for a in 0..<k {
                        // ∂weight/∂pixelₐ: the product of the other axes' weights times this axis's slope.
                        var partial = axes[a].taps[tap.choice[a]].slope * axes[a].pixelSlope
                        for b in 0..<k where b != a { partial *= axes[b].taps[tap.choice[b]].weight }
                        dGrid[(n * p.points + point) * k + (k - 1 - a)] += gradient * value * partial
                    }
                }
            }
        }
        return [Tensor(shape: x.shape, floats: dX.map { Float($0) }, elementType: x.elementType),
                Tensor(shape: grid.shape, floats: dGrid.map { Float($0) }, elementType: grid.elementType)]
    }
}
