/// One direction's parameters, sliced from W [D, G·H, I], R [D, G·H, H], B [D, 2·G·H] and
/// P [D, 3H] (LSTM's peepholes).
struct RecurrentWeights {
    let hidden: Int
    let r: [Float]
    let recurrentBias: [Float]
    let peepholes: [Float]
    let activations: [RecurrentActivation]
    let clip: Float?

    /// Clamps a gate's pre-activation to [−clip, clip] when `clip` is set.
    @inline(__always) func clipped(_ x: Float) -> Float { clip.map { Swift.min(Swift.max(x, -$0), $0) } ?? x }
    /// 1 where the pre-activation was not clipped, 0 where it was (the clamp's derivative).
    @inline(__always) func clipSlope(_ x: Float) -> Float { clip.map { Swift.abs(x) <= $0 ? 1 : 0 } ?? 1 }

    /// R[rows]·v for the rows of `gates` ([g·H, (g + 1)·H) each), gate-major: one matrix–vector
    /// product through BLAS for all the gates a step needs.
    func recurrent(_ gates: Range<Int>, _ v: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: gates.count * hidden)
        r.withUnsafeBufferPointer { rp in
            v.withUnsafeBufferPointer { vp in
                out.withUnsafeMutableBufferPointer { op in
                    GEMM.multiply(m: gates.count * hidden, n: 1, k: hidden, a: rp.baseAddress! + gates.lowerBound * hidden * hidden, lda: hidden,
                                  b: vp.baseAddress!, ldb: 1, c: op.baseAddress!, ldc: 1)
                }
            }
        }
        return out
    }
}

/// A direction's gradient accumulators for R, its bias and the peepholes (W's come from the
/// per-step input gradients afterwards).
struct RecurrentGradients {
    var r: [Double]
    var recurrentBias: [Double]
    var peepholes: [Double]

    /// dR[gate rows] += u ⊗ v.
    mutating func addOuter(_ gate: Int, _ u: [Float], _ v: [Float], hidden: Int) {
        for row in 0..<hidden where u[row] != 0 {
            let base = (gate * hidden + row) * hidden
            for j in 0..<hidden { r[base + j] += Double(u[row]) * Double(v[j]) }
        }
    }

    /// out += R[gate rows]ᵀ·u.
    static func addTransposed(_ weights: RecurrentWeights, _ gate: Int, _ u: [Float], into out: inout [Float]) {
        let hidden = weights.hidden
        for row in 0..<hidden where u[row] != 0 {
            let base = (gate * hidden + row) * hidden
            for j in 0..<hidden { out[j] += weights.r[base + j] * u[row] }
        }
    }
}

/// What one step of a cell computed, for its backward step.
struct RecurrentStep {
    var hidden: [Float]
    var cell: [Float]
    var previousHidden: [Float]
    var previousCell: [Float]
    /// Pre-activations (before clipping) and activations, gate-major.
    var pre: [Float]
    var activated: [Float]
    /// Cell-specific extras (LSTM: h(C); GRU: R_h·h + Rb_h or r⊙h).
    var extra: [Float]
}

/// A recurrent cell: LSTM, GRU or RNN. `step` takes xp = x·Wᵀ + Wb for its gates.
protocol RecurrentCell {
    var gates: Int { get }
    /// The number of activations per direction (LSTM f, g, h; GRU f, g; RNN f).
    var activationCount: Int { get }
    var defaultActivations: [String] { get }
    var hasCellState: Bool { get }
    func step(_ xp: ArraySlice<Float>, hidden: [Float], cell: [Float], weights: RecurrentWeights) -> RecurrentStep
    /// Returns ∂L/∂xp and ∂L/∂(previous hidden, previous cell), accumulating R, Rb and P gradients.
    func backStep(_ step: RecurrentStep, dHidden: [Float], dCell: [Float], weights: RecurrentWeights,
                  gradients: inout RecurrentGradients) -> (dxp: [Float], dHidden: [Float], dCell: [Float])
}

/// LSTM, GRU and RNN over a sequence, one or two directions, with `sequence_lens`, initial
/// states and layouts 0 (X [T, N, I], Y [T, D, N, H]) and 1 (X [N, T, I], Y [N, T, D, H]).
///
/// Outputs: Y (zero past each sequence's length), Y_h and (LSTM) Y_c, the last valid states.
/// The reverse direction runs each sequence from its own last valid step back to step 0.
/// Backward is back-propagation through time: the forward pass is recomputed with every
/// step's gates kept, then walked backwards per direction and sequence; the input projection's
/// gradients (X, W, Wb) come from the stacked per-step ∂L/∂xp with two GEMMs.
struct Recurrent<Cell: RecurrentCell>: Operator, Differentiable {
    let cell: Cell
    let hidden: Int
    let reverse: [Bool]
    let layout: Int
    let activations: [[RecurrentActivation]]
    let clip: Float?

    init(node: Node, cell: Cell) throws {
        self.cell = cell
        hidden = try node.int("hidden_size", default: 0)
        let direction = try node.string("direction", default: "forward")
        switch direction {
        case "forward": reverse = [false]
        case "reverse": reverse = [true]
        case "bidirectional": reverse = [false, true]
        default: throw CNNVizError(.invalidAttribute, "direction '\(direction)' is not forward, reverse or bidirectional")
        }
        layout = try node.int("layout", default: 0)
        let clipValue = node.attributes["clip"] == nil ? nil : try node.float("clip", default: 0)
        clip = clipValue
        var names = [String]()
        if case .strings(let given)? = node.attributes["activations"] { names = given }
        if names.isEmpty { names = Array(repeating: cell.defaultActivations, count: reverse.count).flatMap { $0 } }
        guard names.count == cell.activationCount * reverse.count else {
            throw CNNVizError(.invalidAttribute, "activations lists \(names.count) functions; \(node.opType) with \(reverse.count) direction(s) takes \(cell.activationCount * reverse.count)")
        }
        var alphas = try node.floats("activation_alpha") ?? [], betas = try node.floats("activation_beta") ?? []
        var built = [RecurrentActivation]()
        for name in names { built.append(try RecurrentActivation.make(name, alphas: &alphas, betas: &betas)) }
        activations = (0..<reverse.count).map { Array(built[($0 * cell.activationCount)..<(($0 + 1) * cell.activationCount)]) }
    }

    struct Problem {
        var x: [Float]            // [T, N, I]
        var steps: Int, batch: Int, inputSize: Int
        var lengths: [Int]
        var w: Tensor, weights: [RecurrentWeights], inputBias: [[Float]]
        var initialHidden: [Float]?, initialCell: [Float]?   // [D, N, H]
    }

    /// Moves axes 0 and 1 of a rank-3 array ([N, T, I] ↔ [T, N, I]).
    static func swapLeading(_ values: [Float], _ a: Int, _ b: Int, _ c: Int) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        for i in 0..<a { for j in 0..<b { for k in 0..<c { out[(j * a + i) * c + k] = values[(i * b + j) * c + k] } } }
        return out
    }

    func problem(_ inputs: [Tensor?]) throws -> Problem {
        let x = try inputs.requiredFloat(0, "X"), w = try inputs.requiredFloat(1, "W"), r = try inputs.requiredFloat(2, "R")
        try x.expectRank(3...3, "X")
        let g = cell.gates * hidden, d = reverse.count
        guard hidden > 0, w.shape == [d, g, x.shape[2]], r.shape == [d, g, hidden] else {
            throw CNNVizError(.shapeMismatch, "with hidden_size \(hidden) and \(d) direction(s), W must be \([d, g, x.shape[2]]) and R \([d, g, hidden]); found \(w.shape) and \(r.shape)")
        }
        let (steps, batch) = layout == 0 ? (x.shape[0], x.shape[1]) : (x.shape[1], x.shape[0])
        let values = layout == 0 ? x.floats : Recurrent.swapLeading(x.floats, batch, steps, x.shape[2])
        let bias = inputs.optional(3)?.floats ?? [Float](repeating: 0, count: d * 2 * g)
        let peepholes = inputs.optional(7)?.floats ?? []
        guard bias.count == d * 2 * g, peepholes.isEmpty || peepholes.count == d * 3 * hidden else {
            throw CNNVizError(.shapeMismatch, "B must hold \(d)×\(2 * g) values and P \(d)×\(3 * hidden)")
        }
        let lengths = inputs.optional(4).map { $0.integers.map { Int($0) } } ?? Array(repeating: steps, count: batch)
        guard lengths.count == batch, lengths.allSatisfy({ $0 >= 0 && $0 <= steps }) else {
            throw CNNVizError(.shapeMismatch, "sequence_lens \(lengths) must give one length in 0…\(steps) per sequence of the batch \(batch)")
        }
        func state(_ index: Int) throws -> [Float]? {
            guard let tensor = inputs.optional(index) else { return nil }
            guard tensor.count == d * batch * hidden else {
                throw CNNVizError(.shapeMismatch, "initial state input \(index) must hold \(d)×\(batch)×\(hidden) values, found shape \(tensor.shape)")
            }
            return layout == 0 ? tensor.floats : Recurrent.swapLeading(tensor.floats, batch, d, hidden)
        }
        let rValues = r.floats
        let weights = (0..<d).map { dir in
            RecurrentWeights(hidden: hidden, r: Array(rValues[(dir * g * hidden)..<((dir + 1) * g * hidden)]),
                             recurrentBias: Array(bias[(dir * 2 * g + g)..<((dir + 1) * 2 * g)]),
                             peepholes: peepholes.isEmpty ? [] : Array(peepholes[(dir * 3 * hidden)..<((dir + 1) * 3 * hidden)]),
                             activations: activations[dir], clip: clip)
        }
        return Problem(x: values, steps: steps, batch: batch, inputSize: x.shape[2], lengths: lengths, w: w, weights: weights,
                       inputBias: (0..<d).map { Array(bias[($0 * 2 * g)..<($0 * 2 * g + g)]) },
                       initialHidden: try state(5), initialCell: try state(6))
    }

    /// xp = X·W_dᵀ + Wb_d for every (t, n): [T·N, G·H].
    func inputProjection(_ p: Problem, direction: Int) -> [Float] {
        let g = cell.gates * hidden, rows = p.steps * p.batch
        var xp = [Float](repeating: 0, count: rows * g)
        p.w.withFloats { w in
            p.x.withUnsafeBufferPointer { x in
                xp.withUnsafeMutableBufferPointer { out in
                    GEMM.multiply(m: rows, n: g, k: p.inputSize, a: x.baseAddress!, lda: p.inputSize,
                                  b: w.baseAddress! + direction * g * p.inputSize, ldb: p.inputSize, transposeB: true,
                                  c: out.baseAddress!, ldc: g)
                }
            }
        }
        for row in 0..<rows { for j in 0..<g { xp[row * g + j] += p.inputBias[direction][j] } }
        return xp
    }

    /// The time index of step s of a sequence of length `length` in this direction.
    @inline(__always) func time(_ s: Int, length: Int, direction: Int) -> Int { reverse[direction] ? length - 1 - s : s }

    /// Runs every direction; `steps[d][n]` holds each sequence's steps when `keep` is set.
    func run(_ p: Problem, keep: Bool) -> (y: [Float], lastHidden: [Float], lastCell: [Float], steps: [[[RecurrentStep]]]) {
        let d = reverse.count, g = cell.gates * hidden
        var y = [Float](repeating: 0, count: p.steps * d * p.batch * hidden)
        var lastHidden = [Float](repeating: 0, count: d * p.batch * hidden), lastCell = lastHidden
        var kept = [[[RecurrentStep]]](repeating: [[RecurrentStep]](repeating: [], count: p.batch), count: d)
        for dir in 0..<d {
            let xp = inputProjection(p, direction: dir)
            for n in 0..<p.batch {
                let stateStart = (dir * p.batch + n) * hidden
                var h = p.initialHidden.map { Array($0[stateStart..<(stateStart + hidden)]) } ?? [Float](repeating: 0, count: hidden)
                var c = p.initialCell.map { Array($0[stateStart..<(stateStart + hidden)]) } ?? [Float](repeating: 0, count: hidden)
                for s in 0..<p.lengths[n] {
                    let t = time(s, length: p.lengths[n], direction: dir)
                    let row = (t * p.batch + n) * g
                    let step = cell.step(xp[row..<(row + g)], hidden: h, cell: c, weights: p.weights[dir])
                    (h, c) = (step.hidden, step.cell)
                    let out = ((t * d + dir) * p.batch + n) * hidden
                    for j in 0..<hidden { y[out + j] = h[j] }
                    if keep { kept[dir][n].append(step) }
                }
                for j in 0..<hidden { lastHidden[stateStart + j] = h[j]; lastCell[stateStart + j] = c[j] }
            }
        }
        return (y, lastHidden, lastCell, kept)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let p = try problem(inputs)
        let (y, lastHidden, lastCell, _) = run(p, keep: false)
        let d = reverse.count
        let type = try inputs.requiredFloat(0, "X").elementType
        var outputs: [Tensor]
        if layout == 0 {
            outputs = [Tensor(shape: [p.steps, d, p.batch, hidden], floats: y, elementType: type),
                       Tensor(shape: [d, p.batch, hidden], floats: lastHidden, elementType: type),
                       Tensor(shape: [d, p.batch, hidden], floats: lastCell, elementType: type)]
        } else {
            // [T, D, N, H] → [N, T, D, H]: N moves to the front.
            let yBatchFirst = Recurrent.swapLeading(y, p.steps * d, p.batch, hidden)
            outputs = [Tensor(shape: [p.batch, p.steps, d, hidden], floats: yBatchFirst, elementType: type),
                       Tensor(shape: [p.batch, d, hidden], floats: Recurrent.swapLeading(lastHidden, d, p.batch, hidden), elementType: type),
                       Tensor(shape: [p.batch, d, hidden], floats: Recurrent.swapLeading(lastCell, d, p.batch, hidden), elementType: type)]
        }
        if !cell.hasCellState { outputs.removeLast() }
        return outputs
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let p = try problem(context.inputs)
        let (_, _, _, kept) = run(p, keep: true)
        let d = reverse.count, g = cell.gates * hidden
        // Output gradients in layout 0.
        func gradient(_ index: Int, _ count: Int, transposedAs dims: (Int, Int, Int)?) -> [Float] {
            guard index < context.outputGradients.count, let tensor = context.outputGradients[index] else { return [Float](repeating: 0, count: count) }
            guard layout == 1, let (a, b, c) = dims else { return tensor.floats }
            return Recurrent.swapLeading(tensor.floats, a, b, c)
        }
        let dY = gradient(0, p.steps * d * p.batch * hidden, transposedAs: (p.batch, p.steps * d, hidden))
        let dLastHidden = gradient(1, d * p.batch * hidden, transposedAs: (p.batch, d, hidden))
        let dLastCell = cell.hasCellState ? gradient(2, d * p.batch * hidden, transposedAs: (p.batch, d, hidden)) : []
        var dX = [Float](repeating: 0, count: p.x.count), dW = [Float](repeating: 0, count: d * g * p.inputSize)
        var dR = [Float](), dB = [Float](), dP = [Float]()
        var dInitialHidden = [Float](repeating: 0, count: d * p.batch * hidden), dInitialCell = dInitialHidden
        for dir in 0..<d {
            var sums = RecurrentGradients(r: [Double](repeating: 0, count: g * hidden), recurrentBias: [Double](repeating: 0, count: g),
                                          peepholes: [Double](repeating: 0, count: 3 * hidden))
            var dxp = [Float](repeating: 0, count: p.steps * p.batch * g)
            for n in 0..<p.batch {
                let stateStart = (dir * p.batch + n) * hidden
                var dh = Array(dLastHidden[stateStart..<(stateStart + hidden)])
                var dc = cell.hasCellState ? Array(dLastCell[stateStart..<(stateStart + hidden)]) : [Float](repeating: 0, count: hidden)
                for s in stride(from: p.lengths[n] - 1, through: 0, by: -1) {
                    let t = time(s, length: p.lengths[n], direction: dir)
                    let out = ((t * d + dir) * p.batch + n) * hidden
                    for j in 0..<hidden { dh[j] += dY[out + j] }
                    let (stepDxp, previousDh, previousDc) = cell.backStep(kept[dir][n][s], dHidden: dh, dCell: dc,
                                                                          weights: p.weights[dir], gradients: &sums)
                    let row = (t * p.batch + n) * g
                    for j in 0..<g { dxp[row + j] = stepDxp[j] }
                    (dh, dc) = (previousDh, previousDc)
                }
                for j in 0..<hidden { dInitialHidden[stateStart + j] = dh[j]; dInitialCell[stateStart + j] = dc[j] }
            }
            // dX += dxp·W_d, dW_d = dxpᵀ·X, dWb_d = Σ_rows dxp.
            let rows = p.steps * p.batch
            p.w.withFloats { w in
                dxp.withUnsafeBufferPointer { up in
                    dX.withUnsafeMutableBufferPointer { out in
                        GEMM.multiply(m: rows, n: p.inputSize, k: g, a: up.baseAddress!, lda: g,
                                      b: w.baseAddress! + dir * g * p.inputSize, ldb: p.inputSize,
                                      c: out.baseAddress!, ldc: p.inputSize, beta: 1)
                    }
                    p.x.withUnsafeBufferPointer { x in
                        dW.withUnsafeMutableBufferPointer { out in
                            GEMM.multiply(m: g, n: p.inputSize, k: rows, a: up.baseAddress!, lda: g, transposeA: true,
                                          b: x.baseAddress!, ldb: p.inputSize, c: out.baseAddress! + dir * g * p.inputSize, ldc: p.inputSize)
                        }
                    }
                }
            }
            var inputBias = [Double](repeating: 0, count: g)
            for row in 0..<rows { for j in 0..<g { inputBias[j] += Double(dxp[row * g + j]) } }
            dR += sums.r.map { Float($0) }
            dB += inputBias.map { Float($0) } + sums.recurrentBias.map { Float($0) }
            dP += sums.peepholes.map { Float($0) }
        }
        let x = try context.input(0, "X")
        let dXTensor = Tensor(shape: x.shape, floats: layout == 0 ? dX : Recurrent.swapLeading(dX, p.steps, p.batch, p.inputSize), elementType: x.elementType)
        func state(_ values: [Float], _ index: Int) -> Tensor? {
            guard context.needs(index), let shape = context.inputShapes.indices.contains(index) ? context.inputShapes[index] : nil else { return nil }
            return Tensor(shape: shape, floats: layout == 0 ? values : Recurrent.swapLeading(values, d, p.batch, hidden))
        }
        var result: [Tensor?] = [dXTensor, Tensor(shape: [d, g, p.inputSize], floats: dW), Tensor(shape: [d, g, hidden], floats: dR),
                                 context.needs(3) ? Tensor(shape: [d, 2 * g], floats: dB) : nil, nil, state(dInitialHidden, 5)]
        if cell.hasCellState {
            result += [state(dInitialCell, 6), context.needs(7) ? Tensor(shape: [d, 3 * hidden], floats: dP) : nil]
        }
        return Array(result.prefix(context.inputs.count))
    }
}
