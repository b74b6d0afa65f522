import CNNVizRuntime
import Foundation

/// The model's best class for one image: what a dataset run records as "predicted" and what
/// `--class predicted` explains.
///
/// The class is `ClassTarget.top(1, …)` along the class axis (for a dense output, the class
/// with the largest sum over positions). The confidence is a probability only for a plain
/// [N, C] output: softmax(y)_k = exp(y_k − max y) / Σ_j exp(y_j − max y) of logits, or the
/// value itself when the tensor already is a probability (after the model's Softmax).
/// Pitfall: a softmax of a dense or sequence output's class sums is no probability of
/// anything, so `probability` is nil there rather than a misleading number.
public struct TopPrediction: Sendable, Equatable, Codable {
    public var classIndex: Int
    /// The class's score in the target tensor (a logit, a probability, or a sum over positions).
    public var score: Float
    public var probability: Float?

    public init(classIndex: Int, score: Float, probability: Float?) {
        self.classIndex = classIndex
        self.score = score
        self.probability = probability
    }

    /// The top-1 class of `item` along `axis`; `isProbability` when the tensor is a Softmax's
    /// output. Nil when the item has no such axis (a box regressor, an embedding).
    public static func of(_ item: TargetItem, axis: Int = 1, isProbability: Bool) -> TopPrediction? {
        guard let best = try? ClassTarget.top(1, of: item, axis: axis).first, let score = try? best.score(item) else { return nil }
        guard item.shape.count == 1, axis == 1 else { return TopPrediction(classIndex: best.index, score: score, probability: nil) }
        if isProbability { return TopPrediction(classIndex: best.index, score: score, probability: score) }
        let largest = Double(item.values.max() ?? 0)
        let total = item.values.reduce(0.0) { $0 + exp(Double($1) - largest) }
        return TopPrediction(classIndex: best.index, score: score, probability: Float(exp(Double(score) - largest) / total))
    }
}
