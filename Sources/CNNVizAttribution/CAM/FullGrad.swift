import CNNVizRuntime

/// FullGrad (Srinivas & Fleuret 2019), as pytorch-grad-cam computes it: the input-gradient
/// term |x ⊙ ∇ₓ| with each (image, channel) plane min-maxed, plus, for every Conv with a bias
/// (and every BatchNormalization, bias b − mean·scale/√(var + ε)), |bias ⊙ ∂target/∂output|
/// with each channel plane min-maxed and resized to the input, summed over channels; all of it
/// summed and min-maxed once. No ReLU: every term is a magnitude. Layers are ignored.
///
/// Pitfall: one gradient per biased layer, so the reverse pass keeps every conv output
/// (Conv+ReLU fusion is off for this method).
public struct FullGrad: CAMMethod {
    public var name: String { "fullgrad" }
    public var usesGradients: Bool { true }
    public init() {}

    /// The biased layers: (output tensor, per-channel bias).
    static func biasedLayers(_ session: Session) -> [(String, [Float])] {
        session.graph.nodes.compactMap { node in
            let constant = { (i: Int) in i < node.inputs.count ? session.graph.initializers[node.inputs[i]]?.floats : nil }
            switch node.opType {
            case "Conv":
                return constant(2).map { (node.outputs[0], $0) }
            case "BatchNormalization":
                guard let scale = constant(1), let bias = constant(2), let mean = constant(3), let variance = constant(4) else { return nil }
                let epsilon: Float = if case .float(let e)? = node.attributes["epsilon"] { e } else { 1e-5 }
                return (node.outputs[0], (0..<bias.count).map { bias[$0] - mean[$0] * scale[$0] / (variance[$0] + epsilon).squareRoot() })
            default:
                return nil
            }
        }
    }

    func run(_ runner: CAMRunner, input: Tensor, targets: TargetSet) throws -> (map: [Float], scores: [Float]) {
        let session = runner.session
        let inputName = runner.inputName
        let layers = FullGrad.biasedLayers(session)
        let result = try session.gradients([inputName: input], seed: targets.seed,
                                           wrt: [inputName] + layers.map(\.0), outputs: [targets.tensor])
        let (batch, inChannels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let plane = height * width
        var total = [Float](repeating: 0, count: batch * plane)
        // |x ⊙ ∇x|, each (image, channel) plane min-maxed.
        var inputTerm = zip(input.floats, result.gradients[inputName]!.floats).map { abs($0 * $1) }
        CAMMath.minMax(&inputTerm, images: batch * inChannels)
        for b in 0..<batch { for c in 0..<inChannels { for i in 0..<plane { total[b * plane + i] += inputTerm[(b * inChannels + c) * plane + i] } } }
        for (name, bias) in layers {
            let g = result.gradients[name]!
            guard g.rank == 4 else { continue }
            let (channels, h, w) = (g.shape[1], g.shape[2], g.shape[3])
            let gv = g.floats
            var term = [Float](repeating: 0, count: gv.count)
            for b in 0..<batch { for c in 0..<channels { for i in 0..<(h * w) { let k = (b * channels + c) * h * w + i; term[k] = abs(bias[c] * gv[k]) } } }
            CAMMath.minMax(&term, images: batch * channels)
            // The resize is linear: resizing the channel sum equals summing the resized channels.
            var summed = [Float](repeating: 0, count: batch * h * w)
            for b in 0..<batch { for c in 0..<channels { for i in 0..<(h * w) { summed[b * h * w + i] += term[(b * channels + c) * h * w + i] } } }
            let resized = CAMMath.resize(summed, images: batch, from: (h, w), to: (height, width))
            for i in total.indices { total[i] += resized[i] }
        }
        CAMMath.minMax(&total, images: batch)
        return (total, try targets.scores(result.outputs[targets.tensor]!))
    }
}
