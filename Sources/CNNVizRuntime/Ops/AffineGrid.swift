/// AffineGrid: for theta [N, 2, 3] (or [N, 3, 4]) and size [N, C, H, W] (or [N, C, D, H, W]),
/// the grid [N, H, W, 2] of theta·(x, y, 1) over the normalised pixel centres: x = −1 + (2i + 1)/W
/// (align_corners = 0) or −1 + 2i/(W − 1) (align_corners = 1).
/// Backward: ∂L/∂theta = Σ g ⊗ (x, y, 1) over the points.
struct AffineGrid: Operator, Differentiable {
    let alignCorners: Bool

    init(node: Node) throws { alignCorners = try node.int("align_corners", default: 0) != 0 }

    /// The base points (x, y[, z], 1) of every output position, last spatial axis fastest.
    func basePoints(_ size: [Int]) throws -> (points: [[Double]], spatial: [Int]) {
        let spatial = Array(size.dropFirst(2))
        guard spatial.count == 2 || spatial.count == 3 else {
            throw CNNVizError(.shapeMismatch, "AffineGrid's size must be [N, C, H, W] or [N, C, D, H, W], found \(size)")
        }
        func coordinate(_ i: Int, _ n: Int) -> Double {
            alignCorners ? (n == 1 ? 0 : -1 + 2 * Double(i) / Double(n - 1)) : -1 + (2 * Double(i) + 1) / Double(n)
        }
        var points = [[Double]](), index = [Int](repeating: 0, count: spatial.count)
        for _ in 0..<spatial.reduce(1, *) {
            points.append(index.enumerated().reversed().map { coordinate($0.element, spatial[$0.offset]) } + [1])
            Shape.advance(&index, in: spatial)
        }
        return (points, spatial)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let theta = try inputs.requiredFloat(0, "theta"), size = try inputs.required(1, "size").integers.map { Int($0) }
        _ = try Shape.checkedCount(size)
        let (points, spatial) = try basePoints(size)
        let k = spatial.count
        guard theta.shape == [size[0], k, k + 1] else {
            throw CNNVizError(.shapeMismatch, "AffineGrid's theta must be \([size[0], k, k + 1]) for size \(size), found \(theta.shape)")
        }
        let t = theta.floats
        var out = [Float]()
        for n in 0..<size[0] {
            for point in points {
                for row in 0..<k {
                    var sum = 0.0
                    for col in 0...k { sum += Double(t[(n * k + row) * (k + 1) + col]) * point[col] }
                    out.append(Float(sum))
                }
            }
        }
        return [Tensor(shape: [size[0]] + spatial + [k], floats: out, elementType: theta.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let theta = try context.input(0, "theta"), size = try context.input(1, "size").integers.map { Int($0) }
        let (points, spatial) = try basePoints(size)
        let k = spatial.count, g = try context.outputGradient.floats
        var dTheta = [Double](repeating: 0, count: theta.count)
        for n in 0..<size[0] {
            for (p, point) in points.enumerated() {
                for row in 0..<k {
                    let gradient = Double(g[(n * points.count + p) * k + row])
                    for col in 0...k { dTheta[(n * k + row) * (k + 1) + col] += gradient * point[col] }
                }
            }
        }
        return [Tensor(shape: theta.shape, floats: dTheta.map { Float($0) }, elementType: theta.elementType), nil]
    }
}
