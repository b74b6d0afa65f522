import CNNVizRuntime
import Foundation

/// Score-CAM (Wang et al. 2020), gradient-free, as pytorch-grad-cam computes it: each channel
/// is upsampled to the input size with bilinear align_corners = True (torch's
/// UpsamplingBilinear2d), scaled to a mask m_k = (a − min)/(max − min + 1e-8), and the
/// target is scored on x ⊙ m_k, in batches; w = softmax over channels of those scores.
/// Pitfall: one forward pass per channel (512 for SqueezeNet's fire9), so batching matters.
public struct ScoreCAM: ChannelWeightedCAM {
    public var name: String { "scorecam" }
    public var usesGradients: Bool { false }
    public init() {}

    func weights(_ input: CAMLayerInput) throws -> [Float] {
        let a = input.activations, x = input.input
        let (channels, h, w) = (input.channels, a.shape[2], a.shape[3])
        let (inChannels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let masks = CAMMath.alignedCornersResize(a.floats, images: input.batch * channels, from: (h, w), to: (height, width))
        let pixels = height * width, values = x.floats
        var weights = [Float]()
        for b in 0..<input.batch {
            var scores = [Float]()
            var start = 0
            while start < channels {
                let count = min(input.request.batchSize, channels - start)
                var batch = [Float](repeating: 0, count: count * inChannels * pixels)
                for k in 0..<count {
                    let mask = (b * channels + start + k) * pixels
                    let range = masks[mask..<(mask + pixels)]
                    let low = range.min() ?? 0, high = range.max() ?? 0
                    for c in 0..<inChannels {
                        let source = (b * inChannels + c) * pixels, target = (k * inChannels + c) * pixels
                        for i in 0..<pixels { batch[target + i] = values[source + i] * ((masks[mask + i] - low) / (high - low + 1e-8)) }
                    }
                }
                scores += try input.runner.targetScores(input: Tensor(shape: [count, inChannels, height, width], floats: batch),
                                                        target: input.targets.target(for: b), tensor: input.logits)
                start += count
                input.runner.progress?(start + b * channels, channels * input.batch)
            }
            let maximum = scores.max() ?? 0
            let exps = scores.map { Foundation.exp(Double($0 - maximum)) }
            let total = exps.reduce(0, +)
            weights += exps.map { Float($0 / total) }
        }
        return weights
    }
}
