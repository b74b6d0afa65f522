/// Penalties on the optimised images themselves ([B, 3, H, W] in [0, 1], before the
/// transforms), each with a weight (0: off), subtracted from the objective:
/// - total variation: Σ |x[h, w+1] − x[h, w]| + |x[h+1, w] − x[h, w]| per image
///   (`tf.image.total_variation`), against high-frequency noise;
/// - L1: Σ |x − 0.5|, towards mid grey (the neutral value of a [0, 1] image; Lucid's L1
///   pulls towards 0, which darkens a sigmoid image);
/// - blur: 0.5 Σ (x − stop_gradient(blur(x)))², Lucid's `blur_input_each_step`, with the 3×3
///   kernel [[.5, 1, .5], [1, 1, 1], [.5, 1, .5]] normalised by its sum inside the image.
///
/// Pitfall: |·| has no derivative at 0; as in TensorFlow and torch, sign(0) = 0 is used.
public struct ImageRegularization: Sendable, Equatable {
    public var totalVariation: Float
    public var l1: Float
    public var blur: Float

    public init(totalVariation: Float = 0, l1: Float = 0, blur: Float = 0) {
        self.totalVariation = totalVariation
        self.l1 = l1
        self.blur = blur
    }

    public var isEnabled: Bool { totalVariation != 0 || l1 != 0 || blur != 0 }

    /// The weighted penalty per image, and its gradient added into `gradient`.
    func apply(_ x: [Float], batch: Int, height: Int, width: Int, gradient: inout [Float]) -> [Float] {
        var penalties = [Float](repeating: 0, count: batch)
        guard isEnabled else { return penalties }
        func sign(_ value: Float) -> Float { value > 0 ? 1 : value < 0 ? -1 : 0 }
        let plane = height * width
        for b in 0..<batch {
            for c in 0..<3 {
                let base = (b * 3 + c) * plane
                for row in 0..<height {
                    for column in 0..<width {
                        let i = base + row * width + column
                        if totalVariation != 0 {
                            for (neighbour, exists) in [(i + 1, column + 1 < width), (i + width, row + 1 < height)] where exists {
                                let d = x[neighbour] - x[i]
                                penalties[b] += totalVariation * abs(d)
                                gradient[neighbour] += totalVariation * sign(d)
                                gradient[i] -= totalVariation * sign(d)
                            }
                        }
                        if l1 != 0 {
                            penalties[b] += l1 * abs(x[i] - 0.5)
                            gradient[i] += l1 * sign(x[i] - 0.5)
                        }
                        if blur != 0 {
                            var sum: Float = 0, weights: Float = 0
                            for dy in -1...1 where (0..<height).contains(row + dy) {
                                for dx in -1...1 where (0..<width).contains(column + dx) {
                                    let weight: Float = dx != 0 && dy != 0 ? 0.5 : 1
                                    sum += weight * x[i + dy * width + dx]
                                    weights += weight
                                }
                            }
                            let d = x[i] - sum / weights
                            penalties[b] += blur * 0.5 * d * d
                            gradient[i] += blur * d
                        }
                    }
                }
            }
        }
        return penalties
    }
}
