import Foundation

/// The activations that LSTM, GRU and RNN accept in their `activations` attribute, with the
/// alpha/beta they read from `activation_alpha` / `activation_beta` (consumed in order, only by
/// activations that take them; defaults as the standalone ops').
struct RecurrentActivation {
    let name: String
    let function: (Float) -> Float
    /// dy/dx from x and y.
    let derivative: (Float, Float) -> Float

    /// Builds the activation, taking its parameters from the front of `alphas` / `betas`.
    static func make(_ name: String, alphas: inout [Float], betas: inout [Float]) throws -> RecurrentActivation {
        func take(_ list: inout [Float], _ fallback: Float) -> Float { list.isEmpty ? fallback : list.removeFirst() }
        switch name.lowercased() {
        case "sigmoid":
            let sigmoid = Activations.Sigmoid()
            return RecurrentActivation(name: name, function: sigmoid.callAsFunction, derivative: { _, y in y * (1 - y) })
        case "tanh":
            return RecurrentActivation(name: name, function: fastTanh, derivative: { _, y in 1 - y * y })
        case "relu":
            return RecurrentActivation(name: name, function: { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
        case "affine":
            let (a, b) = (take(&alphas, 1), take(&betas, 0))
            return RecurrentActivation(name: name, function: { a * $0 + b }, derivative: { _, _ in a })
        case "leakyrelu":
            let a = take(&alphas, 0.01)
            return RecurrentActivation(name: name, function: { $0 >= 0 ? $0 : a * $0 }, derivative: { x, _ in x > 0 ? 1 : a })
        case "thresholdedrelu":
            let a = take(&alphas, 1)
            return RecurrentActivation(name: name, function: { $0 > a ? $0 : 0 }, derivative: { x, _ in x > a ? 1 : 0 })
        case "scaledtanh":
            let (a, b) = (take(&alphas, 1), take(&betas, 1))
            return RecurrentActivation(name: name, function: { a * Foundation.tanh(b * $0) },
                                       derivative: { x, _ in let t = Foundation.tanh(b * x); return a * b * (1 - t * t) })
        case "hardsigmoid":
            let hard = Activations.HardSigmoid(alpha: take(&alphas, 0.2), beta: take(&betas, 0.5))
            return RecurrentActivation(name: name, function: hard.callAsFunction, derivative: hard.derivative)
        case "elu":
            let elu = Activations.Elu(alpha: take(&alphas, 1))
            return RecurrentActivation(name: name, function: elu.callAsFunction, derivative: elu.derivative)
        case "softsign":
            let softsign = PointwiseMaths.Softsign()
            return RecurrentActivation(name: name, function: softsign.callAsFunction, derivative: softsign.derivative)
        case "softplus":
            let softplus = Activations.Softplus()
            return RecurrentActivation(name: name, function: softplus.callAsFunction, derivative: softplus.derivative)
        default:
            throw CNNVizError(.invalidAttribute,
                              "recurrent activation '\(name)' is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus")
        }
    }
}
