/// One gate of a step: pre[j] = xp[gate·H + j] + (R_gate·h)[j] + Rb[gate·H + j], with
/// `projected` = R·h for gates 0… (from `RecurrentWeights.recurrent`).
private func gatePreactivation(_ xp: ArraySlice<Float>, _ gate: Int, _ projected: [Float], _ w: RecurrentWeights) -> [Float] {
    let start = xp.startIndex + gate * w.hidden, offset = gate * w.hidden
    return (0..<w.hidden).map { xp[start + $0] + projected[offset + $0] + w.recurrentBias[offset + $0] }
}

/// a(clip(pre)) and its derivative there times the clip's slope.
private func activate(_ a: RecurrentActivation, _ pre: [Float], _ w: RecurrentWeights) -> [Float] { pre.map { a.function(w.clipped($0)) } }
private func slope(_ a: RecurrentActivation, _ pre: Float, _ y: Float, _ w: RecurrentWeights) -> Float {
    a.derivative(w.clipped(pre), y) * w.clipSlope(pre)
}

/// LSTM, gates in ONNX's order i, o, f, c; activations f (gates), g (candidate), h (output):
///   i = f(Wᵢx + Rᵢh + Pᵢ⊙c + b), f = f(…) (or 1 − i with input_forget), c̃ = g(…),
///   C = f⊙c + i⊙c̃, o = f(Wₒx + Rₒh + Pₒ⊙C + b), H = o⊙h(C).
/// Pitfall: the output gate's peephole reads the new cell state C, the others the previous one.
struct LSTMCell: RecurrentCell {
    let inputForget: Bool
    var gates: Int { 4 }
    var activationCount: Int { 3 }
    var defaultActivations: [String] { ["Sigmoid", "Tanh", "Tanh"] }
    var hasCellState: Bool { true }

    func step(_ xp: ArraySlice<Float>, hidden h: [Float], cell c: [Float], weights w: RecurrentWeights) -> RecurrentStep {
        let n = w.hidden, peep = !w.peepholes.isEmpty
        let projected = w.recurrent(0..<4, h)
        var preI = gatePreactivation(xp, 0, projected, w), preO = gatePreactivation(xp, 1, projected, w)
        var preF = gatePreactivation(xp, 2, projected, w)
        let preC = gatePreactivation(xp, 3, projected, w)
        if peep { for j in 0..<n { preI[j] += w.peepholes[j] * c[j]; preF[j] += w.peepholes[2 * n + j] * c[j] } }
        let i = activate(w.activations[0], preI, w)
        let f = inputForget ? i.map { 1 - $0 } : activate(w.activations[0], preF, w)
        let candidate = activate(w.activations[1], preC, w)
        let newCell = (0..<n).map { f[$0] * c[$0] + i[$0] * candidate[$0] }
        if peep { for j in 0..<n { preO[j] += w.peepholes[n + j] * newCell[j] } }
        let o = activate(w.activations[0], preO, w)
        let squashed = newCell.map(w.activations[2].function)
        return RecurrentStep(hidden: (0..<n).map { o[$0] * squashed[$0] }, cell: newCell, previousHidden: h, previousCell: c,
                             pre: preI + preO + preF + preC, activated: i + o + f + candidate, extra: squashed)
    }

    func backStep(_ s: RecurrentStep, dHidden dh: [Float], dCell: [Float], weights w: RecurrentWeights,
                  gradients: inout RecurrentGradients) -> (dxp: [Float], dHidden: [Float], dCell: [Float]) {
        let n = w.hidden, peep = !w.peepholes.isEmpty
        let (gate, out, candidate) = (w.activations[0], w.activations[2], w.activations[1])
        var dPre = [Float](repeating: 0, count: 4 * n), dPrevCell = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let (i, o, f, c̃) = (s.activated[j], s.activated[n + j], s.activated[2 * n + j], s.activated[3 * n + j])
            let dO = dh[j] * s.extra[j] * slope(gate, s.pre[n + j], o, w)
            var dC = dCell[j] + dh[j] * o * out.derivative(s.cell[j], s.extra[j])
            if peep { dC += dO * w.peepholes[n + j] }
            var dI = dC * c̃
            let dF = dC * s.previousCell[j]
            if inputForget { dI -= dF }
            let dPreI = dI * slope(gate, s.pre[j], i, w)
            let dPreF = inputForget ? 0 : dF * slope(gate, s.pre[2 * n + j], f, w)
            dPre[j] = dPreI
            dPre[n + j] = dO
            dPre[2 * n + j] = dPreF
            dPre[3 * n + j] = dC * i * slope(candidate, s.pre[3 * n + j], c̃, w)
            dPrevCell[j] = dC * f
            if peep {
                dPrevCell[j] += dPreI * w.peepholes[j] + dPreF * w.peepholes[2 * n + j]
                gradients.peepholes[j] += Double(dPreI * s.previousCell[j])
                gradients.peepholes[n + j] += Double(dO * s.cell[j])
                gradients.peepholes[2 * n + j] += Double(dPreF * s.previousCell[j])
            }
        }
        return (dPre, recurrentBackward(dPre, s, w, gates: 4, gradients: &gradients), dPrevCell)
    }
}

/// For gates whose pre-activation is xp + R·h + Rb: accumulates dR = Σ dpre ⊗ h and dRb, and
/// returns ∂L/∂h = Σ Rᵀ·dpre over `gates` (the first gates of dPre).
private func recurrentBackward(_ dPre: [Float], _ s: RecurrentStep, _ w: RecurrentWeights, gates: Int,
                               gradients: inout RecurrentGradients) -> [Float] {
    let n = w.hidden
    var dh = [Float](repeating: 0, count: n)
    for gate in 0..<gates {
        let slice = Array(dPre[(gate * n)..<((gate + 1) * n)])
        gradients.addOuter(gate, slice, s.previousHidden, hidden: n)
        for j in 0..<n { gradients.recurrentBias[gate * n + j] += Double(slice[j]) }
        RecurrentGradients.addTransposed(w, gate, slice, into: &dh)
    }
    return dh
}

/// GRU, gates in ONNX's order z, r, h; activations f (gates) and g (candidate):
///   z = f(W_z x + R_z h + b), r = f(W_r x + R_r h + b),
///   h̃ = g(W_h x + R_h (r⊙h) + Rb_h)            (linear_before_reset = 0)
///   h̃ = g(W_h x + r⊙(R_h h + Rb_h) + Wb_h)       (linear_before_reset ≠ 0, PyTorch's form)
///   H = (1 − z)⊙h̃ + z⊙h.
struct GRUCell: RecurrentCell {
    let linearBeforeReset: Bool
    var gates: Int { 3 }
    var activationCount: Int { 2 }
    var defaultActivations: [String] { ["Sigmoid", "Tanh"] }
    var hasCellState: Bool { false }

    func step(_ xp: ArraySlice<Float>, hidden h: [Float], cell c: [Float], weights w: RecurrentWeights) -> RecurrentStep {
        let n = w.hidden
        let projected = w.recurrent(0..<(linearBeforeReset ? 3 : 2), h)
        let preZ = gatePreactivation(xp, 0, projected, w), preR = gatePreactivation(xp, 1, projected, w)
        let z = activate(w.activations[0], preZ, w), r = activate(w.activations[0], preR, w)
        let extra: [Float], preH: [Float]
        let start = xp.startIndex + 2 * n
        if linearBeforeReset {
            extra = (0..<n).map { projected[2 * n + $0] + w.recurrentBias[2 * n + $0] }
            preH = (0..<n).map { xp[start + $0] + r[$0] * extra[$0] }
        } else {
            extra = (0..<n).map { r[$0] * h[$0] }
            let reset = w.recurrent(2..<3, extra)
            preH = (0..<n).map { xp[start + $0] + reset[$0] + w.recurrentBias[2 * n + $0] }
        }
        let candidate = activate(w.activations[1], preH, w)
        return RecurrentStep(hidden: (0..<n).map { (1 - z[$0]) * candidate[$0] + z[$0] * h[$0] }, cell: c, previousHidden: h,
                             previousCell: c, pre: preZ + preR + preH, activated: z + r + candidate, extra: extra)
    }

    func backStep(_ s: RecurrentStep, dHidden dh: [Float], dCell: [Float], weights w: RecurrentWeights,
                  gradients: inout RecurrentGradients) -> (dxp: [Float], dHidden: [Float], dCell: [Float]) {
        let n = w.hidden, h = s.previousHidden
        var dPre = [Float](repeating: 0, count: 3 * n), dPrev = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let (z, candidate) = (s.activated[j], s.activated[2 * n + j])
            dPre[j] = dh[j] * (h[j] - candidate) * slope(w.activations[0], s.pre[j], z, w)
            dPre[2 * n + j] = dh[j] * (1 - z) * slope(w.activations[1], s.pre[2 * n + j], candidate, w)
            dPrev[j] = dh[j] * z
        }
        let dPreH = Array(dPre[(2 * n)...])
        var dr = [Float](repeating: 0, count: n)
        if linearBeforeReset {
            let du = (0..<n).map { dPreH[$0] * s.activated[n + $0] }
            for j in 0..<n { dr[j] = dPreH[j] * s.extra[j]; gradients.recurrentBias[2 * n + j] += Double(du[j]) }
            gradients.addOuter(2, du, h, hidden: n)
            RecurrentGradients.addTransposed(w, 2, du, into: &dPrev)
        } else {
            var dv = [Float](repeating: 0, count: n)
            RecurrentGradients.addTransposed(w, 2, dPreH, into: &dv)
            gradients.addOuter(2, dPreH, s.extra, hidden: n)
            for j in 0..<n {
                gradients.recurrentBias[2 * n + j] += Double(dPreH[j])
                dr[j] = dv[j] * h[j]
                dPrev[j] += dv[j] * s.activated[n + j]
            }
        }
        for j in 0..<n { dPre[n + j] = dr[j] * slope(w.activations[0], s.pre[n + j], s.activated[n + j], w) }
        let fromGates = recurrentBackward(dPre, s, w, gates: 2, gradients: &gradients)
        return (dPre, (0..<n).map { dPrev[$0] + fromGates[$0] }, dCell)
    }
}

/// RNN: H = f(W x + R h + Wb + Rb), f default Tanh.
struct RNNCell: RecurrentCell {
    var gates: Int { 1 }
    var activationCount: Int { 1 }
    var defaultActivations: [String] { ["Tanh"] }
    var hasCellState: Bool { false }

    func step(_ xp: ArraySlice<Float>, hidden h: [Float], cell c: [Float], weights w: RecurrentWeights) -> RecurrentStep {
        let pre = gatePreactivation(xp, 0, w.recurrent(0..<1, h), w)
        let y = activate(w.activations[0], pre, w)
        return RecurrentStep(hidden: y, cell: c, previousHidden: h, previousCell: c, pre: pre, activated: y, extra: [])
    }

    func backStep(_ s: RecurrentStep, dHidden dh: [Float], dCell: [Float], weights w: RecurrentWeights,
                  gradients: inout RecurrentGradients) -> (dxp: [Float], dHidden: [Float], dCell: [Float]) {
        let dPre = (0..<w.hidden).map { dh[$0] * slope(w.activations[0], s.pre[$0], s.activated[$0], w) }
        return (dPre, recurrentBackward(dPre, s, w, gates: 1, gradients: &gradients), dCell)
    }
}
