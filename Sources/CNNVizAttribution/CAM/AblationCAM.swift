import CNNVizRuntime

/// Ablation-CAM (Desai & Ramaswamy 2020), gradient-free, as pytorch-grad-cam computes it:
/// channel k of the layer is replaced by 0 (or by min(A) − 1e7 when min(A) ≠ 0, as its
/// AblationLayer does for layers that can be negative), giving the score y_k;
/// w_k = (y − y_k) / y. Only the part of the graph after the layer runs, in batches.
public struct AblationCAM: ChannelWeightedCAM {
    public var name: String { "ablationcam" }
    public var usesGradients: Bool { false }
    public init() {}

    func weights(_ input: CAMLayerInput) throws -> [Float] {
        let a = input.activations.floats
        let (channels, plane) = (input.channels, input.plane)
        var weights = [Float]()
        for b in 0..<input.batch {
            let image = Array(a[(b * channels * plane)..<((b + 1) * channels * plane)])
            let minimum = image.min() ?? 0
            let ablated: Float = minimum == 0 ? 0 : minimum - 1e7
            let original = input.scores[b]
            var start = 0
            while start < channels {
                let count = min(input.request.batchSize, channels - start)
                var batch = [Float]()
                batch.reserveCapacity(count * image.count)
                for k in 0..<count {
                    var copy = image
                    let channel = start + k
                    for i in (channel * plane)..<((channel + 1) * plane) { copy[i] = ablated }
                    batch += copy
                }
                var shape = input.activations.shape
                shape[0] = count
                let scores = try input.runner.targetScores(layer: input.layer, activations: Tensor(shape: shape, floats: batch),
                                                           input: input.input, image: b, target: input.targets.target(for: b),
                                                           tensor: input.logits)
                weights += scores.map { (original - $0) / original }
                start += count
                input.runner.progress?(start + b * channels, channels * input.batch)
            }
        }
        return weights
    }
}
