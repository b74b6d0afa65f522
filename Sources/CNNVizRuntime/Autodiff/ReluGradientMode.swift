/// How ReLU passes gradients back: the true derivative, or the rules that the visualisation
/// methods substitute for it.
///
/// - standard: ∂L/∂x = g·[x > 0].
/// - guided (Springenberg et al. 2015, guided backpropagation): g·[x > 0]·[g > 0].
/// - deconvnet (Zeiler & Fergus 2014): g·[g > 0], whatever the forward input was.
///
/// Pitfall: only `Relu` nodes switch rule (as in Captum and pytorch-grad-cam, which replace
/// nn.ReLU modules); ReLU6 written as Clip keeps its own derivative. [x > 0] is read from
/// the output (y > 0 ⇔ x > 0), since a fused producer never stores x.
public enum ReluGradientMode: String, CaseIterable, Sendable {
    case standard, guided, deconvnet

    /// The rules to pass to `Session.gradients(…, rules:)`.
    public var rules: [String: BackwardRule] {
        switch self {
        case .standard:
            return [:]
        case .guided:
            return ["Relu": { _, context in
                let y = try context.output(0)
                return [try context.outputGradient.zipped(y) { g, y in y > 0 && g > 0 ? g : 0 }]
            }]
        case .deconvnet:
            return ["Relu": { _, context in
                let g = try context.outputGradient
                return [g.zipped(g) { g, _ in g > 0 ? g : 0 }]
            }]
        }
    }
}
