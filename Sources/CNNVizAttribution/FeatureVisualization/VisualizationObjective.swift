import CNNVizRuntime

/// What one optimised image should excite, at one layer y of shape [B, C, …] (or [B, C] for
/// logits), for batch item b:
/// - `channel(c)`: mean over positions of y[b, c] (a class logit is a channel of the logits);
/// - `neuron(c, row, column)`: y[b, c, row, column], the centre by default (⌊H/2⌋, ⌊W/2⌋);
/// - `direction(v)`: mean over positions of cos(v, y[b, :, h, w]), Lucent's `direction`
///   (cosine, not the dot product, so that scaling y up does not pay).
/// `negated` maximises the negative, i.e. what suppresses the unit.
///
/// Pitfall: a class objective must sit on the logits before a Softmax
/// (`Session.logitsBeforeSoftmax`); a probability saturates at 1 and its gradient vanishes.
public struct VisualizationObjective: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case channel(Int)
        case neuron(Int, row: Int?, column: Int?)
        case direction([Float])
    }

    /// A tensor or node name.
    public var layer: String
    public var kind: Kind
    public var negated: Bool

    public init(layer: String, _ kind: Kind, negated: Bool = false) {
        self.layer = layer
        self.kind = kind
        self.negated = negated
    }

    /// In words, for captions: "fire9/concat_1 channel 3".
    public var description: String { (negated ? "−" : "") + "\(layer) \(unit)" }

    /// The unit without its layer: "channel 3", "neuron 3 at (centre, centre)".
    public var unit: String {
        switch kind {
        case .channel(let c): return "channel \(c)"
        case .neuron(let c, let row, let column): return "neuron \(c) at (\(row.map(String.init) ?? "centre"), \(column.map(String.init) ?? "centre"))"
        case .direction(let v): return "a direction over \(v.count) channels"
        }
    }

    /// Checks the objective against the layer's shape; names the layer and what was expected.
    func validate(shape: [Int]) throws {
        let channels = shape.count >= 2 ? shape[1] : 0
        func fail(_ message: String) -> CNNVizError {
            CNNVizError(.invalidArgument, "objective on '\(layer)' of shape \(shape): \(message)").with(tensor: layer)
        }
        switch kind {
        case .channel(let c), .neuron(let c, _, _):
            guard c >= 0 && c < channels else { throw fail("channel \(c) is out of range 0..<\(channels)") }
            if case .neuron(_, let row, let column) = kind {
                guard shape.count == 4 else { throw fail("a neuron needs a [B, C, H, W] layer") }
                if let row, !(0..<shape[2]).contains(row) { throw fail("row \(row) is out of range 0..<\(shape[2])") }
                if let column, !(0..<shape[3]).contains(column) { throw fail("column \(column) is out of range 0..<\(shape[3])") }
            }
        case .direction(let v):
            guard v.count == channels else { throw fail("the direction has \(v.count) entries, expected \(channels)") }
            guard v.contains(where: { $0 != 0 }) else { throw fail("the direction is all zeros") }
        }
    }

    /// The objective of item `b` of y, and ∂objective/∂y added into `gradient` (y's shape).
    public func evaluate(_ y: [Float], shape: [Int], item b: Int, gradient: inout [Float]) -> Float {
        let channels = shape[1], positions = shape.dropFirst(2).reduce(1, *)
        let sign: Float = negated ? -1 : 1
        let base = b * channels * positions
        switch kind {
        case .channel(let c):
            var sum: Float = 0
            for p in 0..<positions {
                sum += y[base + c * positions + p]
                gradient[base + c * positions + p] += sign / Float(positions)
            }
            return sign * sum / Float(positions)
        case .neuron(let c, let row, let column):
            let index = base + c * positions + (row ?? shape[2] / 2) * shape[3] + (column ?? shape[3] / 2)
            gradient[index] += sign
            return sign * y[index]
        case .direction(let v):
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            var total: Float = 0
            for p in 0..<positions {
                var dot: Float = 0, squared: Float = 0
                for c in 0..<channels {
                    let value = y[base + c * positions + p]
                    dot += v[c] * value
                    squared += value * value
                }
                // torch's CosineSimilarity clamps the product of the norms at 1e-8.
                let length = squared.squareRoot(), denominator = max(norm * length, 1e-8)
                let cosine = dot / denominator
                total += cosine
                for c in 0..<channels {
                    let value = y[base + c * positions + p]
                    let d = v[c] / denominator - (length > 0 ? cosine * value / squared : 0)
                    gradient[base + c * positions + p] += sign * d / Float(positions)
                }
            }
            return sign * total / Float(positions)
        }
    }
}

/// Lucid's diversity term for a batch of images at one layer: the Gram matrices
/// G_b = F_b F_bᵀ of each image's [C, P] features, each divided by its Frobenius norm, and
/// S = Σ_{i≠j} ⟨Ĝ_i, Ĝ_j⟩, which the optimisation subtracts (weight × S) so that the images
/// differ in style. Lucent's `objective - w * diversity(layer)` is this, times the batch size.
///
/// ∂S/∂Ĝ_i = 2 Σ_{j≠i} Ĝ_j =: A; ∂S/∂G_i = (A − ⟨A, Ĝ_i⟩ Ĝ_i)/‖G_i‖; ∂S/∂F_i = 2 (∂S/∂G_i) F_i.
public enum Diversity {
    /// S, and weight · ∂S/∂y subtracted from `gradient`.
    public static func apply(_ y: [Float], shape: [Int], weight: Float, gradient: inout [Float]) -> Float {
        let (batch, channels) = (shape[0], shape[1]), positions = shape.dropFirst(2).reduce(1, *)
        guard batch > 1 else { return 0 }
        var grams = [[Float]](), norms = [Float]()
        for b in 0..<batch {
            var gram = [Float](repeating: 0, count: channels * channels)
            y.withUnsafeBufferPointer { features in
                GEMM.multiply(m: channels, n: channels, k: positions, a: features.baseAddress! + b * channels * positions, lda: positions,
                              b: features.baseAddress! + b * channels * positions, ldb: positions, transposeB: true, c: &gram, ldc: channels)
            }
            let norm = max(gram.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)  // F.normalize's eps
            norms.append(norm)
            grams.append(gram.map { $0 / norm })
        }
        var total = [Float](repeating: 0, count: channels * channels)
        for gram in grams { for k in total.indices { total[k] += gram[k] } }
        var similarity: Float = 0
        for b in 0..<batch {
            for k in total.indices { similarity += grams[b][k] * (total[k] - grams[b][k]) }
            var a = (0..<total.count).map { 2 * (total[$0] - grams[b][$0]) }
            let projection = zip(a, grams[b]).reduce(0) { $0 + $1.0 * $1.1 }
            for k in a.indices { a[k] = (a[k] - projection * grams[b][k]) / norms[b] }
            var featureGradient = [Float](repeating: 0, count: channels * positions)
            y.withUnsafeBufferPointer { features in
                GEMM.multiply(m: channels, n: positions, k: channels, a: a, lda: channels, b: features.baseAddress! + b * channels * positions,
                              ldb: positions, c: &featureGradient, ldc: positions, alpha: 2)
            }
            for k in featureGradient.indices { gradient[b * channels * positions + k] -= weight * featureGradient[k] }
        }
        return similarity
    }
}
