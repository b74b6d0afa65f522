import CNNVizRuntime

/// A map with NaN or ±Inf is not an explanation: the runners refuse it instead of returning it
/// (a colour map would show it as all zero, and the command would succeed).
enum NonFiniteCheck {
    /// Throws when `map` holds a NaN or an infinity, naming how many and the likely cause:
    /// the input itself, else the model (weights or an op overflowing).
    static func require(_ map: Tensor, what: String, input: Tensor, model: String) throws {
        let bad = map.floats.lazy.filter { !$0.isFinite }.count
        guard bad > 0 else { return }
        let cause = input.floats.contains(where: { !$0.isFinite })
            ? "the input tensor holds NaN or infinite values"
            : "the model produced NaN or infinite values (check its weights, or an op overflowing Float32)"
        throw CNNVizError(.invalidArgument, "\(what) has \(bad) NaN or infinite values of \(map.count): \(cause)", location: model)
    }
}
