import Foundation

/// Range: start, start + delta, … while below `limit` (above it for a negative delta), as
/// `np.arange`: n = max(⌈(limit − start) / delta⌉, 0) elements of start's type.
///
/// Pitfall: element i is start + i·delta, not a running sum, so float ranges do not drift.
/// Its length depends on the input values; a Range on a shape subgraph is folded away when
/// the input shape is known (`Session.foldConstants`).
struct ArithmeticRange: Operator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let start = try inputs.required(0, "start"), limit = try inputs.required(1, "limit"), delta = try inputs.required(2, "delta")
        for (tensor, what) in [(start, "start"), (limit, "limit"), (delta, "delta")] where tensor.count != 1 {
            throw CNNVizError(.shapeMismatch, "Range's \(what) must be a scalar, found shape \(tensor.shape)")
        }
        if start.isFloatingPoint {
            let (s, l, d) = (Double(start.floats[0]), Double(limit.floats[0]), Double(delta.floats[0]))
            guard d != 0 else { throw CNNVizError(.invalidArgument, "Range's delta is 0") }
            let steps = ((l - s) / d).rounded(.up)
            guard !steps.isNaN else { throw CNNVizError(.invalidArgument, "Range from \(s) to \(l) by \(d) has no defined length") }
            // Clamped before the conversion to Int, which traps on ±∞ and huge values.
            let n = try Shape.checkedCount([Int(Swift.min(Swift.max(steps, 0), Double(Shape.maximumCount) + 1))])
            let values = (0..<n).map { Float(s + Double($0) * d) }
            return [Tensor(shape: [n], floats: values, elementType: start.elementType)]
        }
        let (s, l, d) = (start.integers[0], limit.integers[0], delta.integers[0])
        guard d != 0 else { throw CNNVizError(.invalidArgument, "Range's delta is 0") }
        let (span, overflow) = l.subtractingReportingOverflow(s)
        guard !overflow else { throw CNNVizError(.limitExceeded, "Range from \(s) to \(l) is longer than any tensor") }
        let steps = span / d + ((span % d != 0 && (span > 0) == (d > 0)) ? 1 : 0)
        let n = try Shape.checkedCount([Int(Swift.min(Swift.max(steps, 0), Int64(Shape.maximumCount) + 1))])
        return [Tensor(shape: [n], integers: (0..<n).map { s + Int64($0) * d }, elementType: start.elementType)]
    }
}
