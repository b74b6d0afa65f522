import Foundation

/// Training losses: each returns the loss and its gradient with respect to the logits, side by
/// side, so that the backward pass can start from `gradient`.
///
/// Both losses average, as PyTorch's default `reduction="mean"` does, and sum in Double: a
/// Float running sum over a large batch loses the small terms once the total is large.
/// A non-finite logit is an error rather than a NaN loss: it means training has diverged, and
/// the message says where.
public enum Loss {
    /// Softmax cross-entropy on logits `[N, C]` with one class index per row, averaged over the batch
    /// (`torch.nn.functional.cross_entropy`).
    ///
    /// loss = (1/N) Σ_n [ logsumexp(x_n) − x_n[y_n] ],  logsumexp(x) = m + log Σ_c exp(x_c − m), m = max_c x_c
    /// ∂loss/∂x_nc = (softmax(x_n)_c − [c = y_n]) / N
    ///
    /// Pitfall: exp(x_c) overflows Float for x_c > 88 and underflows to 0 for every class when all
    /// logits are very negative, giving inf/inf or log 0. Subtracting the row maximum first keeps
    /// every exponent ≤ 0 with at least one term equal to 1.
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int]) throws -> (loss: Float, gradient: Tensor) {
        let location = "softmax cross-entropy"
        guard logits.rank == 2 else {
            throw CNNVizError(.shapeMismatch, "logits should be an [N, C] tensor (batch × classes), found shape \(logits.shape)",
                              location: location)
        }
        guard logits.isFloatingPoint else {
            throw CNNVizError(.invalidArgument, "logits should be floating-point, found \(logits)", location: location)
        }
        let rows = logits.shape[0], classes = logits.shape[1]
        guard labels.count == rows else {
            throw CNNVizError(.shapeMismatch, "logits have \(rows) rows but \(labels.count) labels were given; pass one label per row",
                              location: location)
        }
        guard rows > 0, classes > 0 else {
            throw CNNVizError(.invalidArgument, "logits of shape \(logits.shape) are empty; the mean loss needs at least one row and one class",
                              location: location)
        }
        for (row, label) in labels.enumerated() where !(0..<classes).contains(label) {
            throw CNNVizError(.invalidArgument,
                              "row \(row) has label \(label), outside the \(classes) classes 0...\(classes - 1) of the logits",
                              location: location)
        }
        let x = logits.floats
        try checkFinite(x, columns: classes, location: location)
        var total = 0.0
        var gradient = [Float](repeating: 0, count: x.count)
        let scale = 1.0 / Double(rows)
        for row in 0..<rows {
            let base = row * classes
            var maximum = -Double.infinity
            for c in 0..<classes { maximum = max(maximum, Double(x[base + c])) }
            var sum = 0.0
            for c in 0..<classes { sum += exp(Double(x[base + c]) - maximum) }
            let logSumExp = maximum + log(sum)
            total += logSumExp - Double(x[base + labels[row]])
            for c in 0..<classes {
                let probability = exp(Double(x[base + c]) - logSumExp)
                gradient[base + c] = Float((probability - (c == labels[row] ? 1 : 0)) * scale)
            }
        }
        return (Float(total * scale), Tensor(shape: logits.shape, floats: gradient, elementType: logits.elementType))
    }

    /// Binary cross-entropy on logits against targets of the same shape (soft targets in [0, 1]
    /// allowed), averaged over all elements (`torch.nn.functional.binary_cross_entropy_with_logits`).
    ///
    /// loss = (1/count) Σ [ max(x, 0) − x·t + log1p(exp(−|x|)) ]
    /// ∂loss/∂x = (σ(x) − t) / count,  σ(x) = 1 / (1 + exp(−x))
    ///
    /// Pitfall: the textbook −t·log σ(x) − (1 − t)·log(1 − σ(x)) takes log 0 = −inf once σ(x)
    /// rounds to 0 or 1 (|x| ≳ 17 in Float). The form above never exponentiates a positive number,
    /// and σ is evaluated as exp(x)/(1 + exp(x)) for negative x for the same reason.
    public static func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor) throws -> (loss: Float, gradient: Tensor) {
        let location = "binary cross-entropy with logits"
        guard logits.shape == targets.shape else {
            throw CNNVizError(.shapeMismatch, "logits have shape \(logits.shape) but targets have shape \(targets.shape); they must match",
                              location: location)
        }
        guard logits.isFloatingPoint else {
            throw CNNVizError(.invalidArgument, "logits should be floating-point, found \(logits)", location: location)
        }
        guard logits.count > 0 else {
            throw CNNVizError(.invalidArgument, "logits of shape \(logits.shape) are empty; the mean loss needs at least one element",
                              location: location)
        }
        let x = logits.floats, t = targets.floats
        try checkFinite(x, columns: nil, location: location)
        if let index = t.firstIndex(where: { !$0.isFinite }) {
            throw CNNVizError(.invalidArgument, "target at flat index \(index) is \(t[index]); targets should be probabilities in [0, 1]",
                              location: location)
        }
        var total = 0.0
        var gradient = [Float](repeating: 0, count: x.count)
        let scale = 1.0 / Double(x.count)
        for i in x.indices {
            let xi = Double(x[i]), ti = Double(t[i])
            total += max(xi, 0) - xi * ti + log1p(exp(-abs(xi)))
            let sigmoid = xi >= 0 ? 1 / (1 + exp(-xi)) : exp(xi) / (1 + exp(xi))
            gradient[i] = Float((sigmoid - ti) * scale)
        }
        return (Float(total * scale), Tensor(shape: logits.shape, floats: gradient, elementType: logits.elementType))
    }

    /// Throws `.invalidArgument` naming the first non-finite logit, by row and column of a
    /// matrix (`columns`) or by flat index (`columns` nil).
    static func checkFinite(_ values: [Float], columns: Int?, location: String) throws {
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        let place = columns.map { "row \(index / $0), column \(index % $0)" } ?? "flat index \(index)"
        throw CNNVizError(.invalidArgument,
                          "logit at \(place) is \(values[index]); training has probably diverged (try a lower learning rate)",
                          location: location)
    }
}
