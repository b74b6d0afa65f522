/// Text printed above an overlay: what was explained, how, and where.
public struct Caption: Sendable, Equatable {
    /// The class, e.g. "281 tabby, tabby cat".
    public var label: String?
    /// The target's score.
    public var score: Float?
    /// What the score is, printed before it: "logit", "probability" or "score".
    public var scoreName: String
    /// The method, e.g. "gradcam".
    public var method: String?
    /// The layer, e.g. "fire9/concat_1".
    public var layer: String?

    public init(label: String? = nil, score: Float? = nil, scoreName: String = "score", method: String? = nil, layer: String? = nil) {
        self.label = label
        self.score = score
        self.scoreName = scoreName
        self.method = method
        self.layer = layer
    }

    /// The lines as printed: "label  logit 0.873" then "method @ layer"; empty parts are left out.
    public var lines: [String] {
        var first: [String] = []
        if let label { first.append(label) }
        if let score { first.append(scoreName + " " + Caption.formatted(score)) }
        var second: [String] = []
        if let method { second.append(method) }
        if let layer { second.append("@ " + layer) }
        return [first, second].filter { !$0.isEmpty }.map { $0.joined(separator: "  ") }
    }

    /// Four significant digits, without Foundation's locale.
    static func formatted(_ value: Float) -> String {
        guard value.isFinite else { return "\(value)" }
        if value != 0, abs(value) < 1e-3 || abs(value) >= 1e5 { return "\(value)" }
        let scaled = (Double(value) * 1000).rounded() / 1000
        var text = "\(scaled)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}
