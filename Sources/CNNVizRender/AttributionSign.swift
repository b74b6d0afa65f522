/// Which part of a signed attribution a view shows, as Captum's `VisualizeSign`.
public enum AttributionSign: String, CaseIterable, Sendable {
    /// max(a, 0).
    case positive
    /// min(a, 0), shown by its magnitude.
    case negative
    /// |a|; Captum's default.
    case absoluteValue = "absolute_value"
    /// a itself, in [−1, 1]; only views that can show a sign (heat maps) accept it.
    case all

    /// Captum's default colormap for this sign: green for positive, red for negative, blue
    /// for absolute values, red–white–green for all.
    public var defaultColormap: Colormap {
        switch self {
        case .positive: return .greens
        case .negative: return .reds
        case .absoluteValue: return .blues
        case .all: return .redWhiteGreen
        }
    }

    /// The range of the normalised values: [−1, 1] for `all`, [0, 1] otherwise (Captum's
    /// vmin and vmax).
    public var range: ClosedRange<Float> { self == .all ? -1...1 : 0...1 }
}
