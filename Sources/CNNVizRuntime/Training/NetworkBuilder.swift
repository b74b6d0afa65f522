import Foundation

/// Builds a fresh CNN `Model` in code, layer by layer, with seeded He-uniform weights.
///
/// ```swift
/// let model = try NetworkBuilder(seed: 7)
///     .conv(out: 8, kernel: 3, pad: 1).relu().maxPool(kernel: 2)
///     .conv(out: 16, kernel: 3, pad: 1).relu()
///     .globalAveragePool().flatten().dense(out: 10)
///     .build(inputName: "image", inputShape: [nil, 3, 32, 32], outputName: "logits")
/// ```
///
/// Each layer is a node named after its kind and its number among that kind (`conv1`, `relu1`,
/// `pool1`, `gap1`, `flatten1`, `dense1`); the node's output tensor has the node's name, and
/// its parameters are `<node>.weight` and `<node>.bias`. The last node's output is renamed to
/// `outputName`; batch-norm parameters are `<node>.weight`, `.bias`, `.running_mean` and
/// `.running_var`. Models are opset 13, IR 8, and record the seed in their metadata.
///
/// Weights are He-uniform (Kaiming, for ReLU networks): w ~ U(−b, b) with b = √(6 / fan_in),
/// fan_in = in_channels·k·k for a convolution and in_features for a dense layer, so that
/// Var(w) = b²/3 = 2/fan_in keeps the activations' variance steady through ReLU layers.
/// Biases start at 0. Pitfall: PyTorch's default layer init is *not* this (it is
/// kaiming_uniform with a = √5, i.e. b = 1/√fan_in, and a nonzero bias), so a network built
/// here starts from a different point than the same network freshly made in PyTorch.
///
/// The layers are recorded when called and sized in `build`, which knows the input shape;
/// all checks (a kernel larger than its input, a dense layer on a 4-D tensor) happen there.
/// The same seed and the same layers always give bit-identical weights.
public struct NetworkBuilder: Sendable {
    enum Layer: Sendable {
        case conv(out: Int, kernel: Int, stride: Int, pad: Int, dilation: Int)
        case batchNorm(epsilon: Float, momentum: Float)
        case relu
        case maxPool(kernel: Int, stride: Int)
        case globalAveragePool
        case flatten
        case dense(out: Int)
    }

    public var seed: UInt64
    var layers: [Layer] = []

    /// The largest channel count, kernel, stride or padding accepted; larger ones are input errors, not networks.
    public static let maximumArgument = 1 << 20

    public init(seed: UInt64 = 0) {
        self.seed = seed
    }

    /// A square 2-D convolution with bias: `out` channels, `kernel`×`kernel`, zero padding `pad`
    /// on every side, taps `dilation` pixels apart (the kernel spans dilation·(kernel − 1) + 1).
    public func conv(out: Int, kernel: Int, stride: Int = 1, pad: Int = 0, dilation: Int = 1) -> NetworkBuilder {
        adding(.conv(out: out, kernel: kernel, stride: stride, pad: pad, dilation: dilation))
    }

    /// Batch normalisation over the channels (ONNX BatchNormalization in inference form):
    /// scale 1, bias 0, running mean 0 and running variance 1 to start. `momentum` is ONNX's
    /// (running ← momentum·running + (1 − momentum)·batch), so PyTorch's default 0.1 is 0.9 here.
    /// Train it with `BatchNormTraining`, which switches the nodes to training mode.
    public func batchNorm(epsilon: Float = 1e-5, momentum: Float = 0.9) -> NetworkBuilder {
        adding(.batchNorm(epsilon: epsilon, momentum: momentum))
    }

    public func relu() -> NetworkBuilder { adding(.relu) }

    /// Square max pooling without padding; `stride` defaults to `kernel`.
    public func maxPool(kernel: Int, stride: Int? = nil) -> NetworkBuilder {
        adding(.maxPool(kernel: kernel, stride: stride ?? kernel))
    }

    public func globalAveragePool() -> NetworkBuilder { adding(.globalAveragePool) }

    /// Flattens [N, C, H, W] to [N, C·H·W] (ONNX Flatten, axis 1).
    public func flatten() -> NetworkBuilder { adding(.flatten) }

    /// A fully connected layer y = x·Wᵀ + b (ONNX Gemm with transB = 1, W of shape [out, in], as PyTorch's Linear).
    public func dense(out: Int) -> NetworkBuilder { adding(.dense(out: out)) }

    func adding(_ layer: Layer) -> NetworkBuilder {
        var copy = self
        copy.layers.append(layer)
        return copy
    }

    /// The model: input `inputName` of shape `inputShape` (nil dimensions are symbolic; the
    /// channel count must be known, and so must the feature count reaching a dense layer).
    public func build(inputName: String = "input", inputShape: [Int?], outputName: String = "output",
                      graphName: String = "network") throws -> Model {
        let location = "NetworkBuilder"
        guard !layers.isEmpty else {
            throw CNNVizError(.invalidArgument, "the network has no layers; add at least one before build()", location: location)
        }
        guard !inputName.isEmpty, !outputName.isEmpty, inputName != outputName else {
            throw CNNVizError(.invalidArgument,
                              "input and output names must be non-empty and different, found '\(inputName)' and '\(outputName)'",
                              location: location)
        }
        guard inputShape.allSatisfy({ ($0 ?? 1) > 0 && ($0 ?? 1) <= Shape.maximumCount }) else {
            throw CNNVizError(.shapeMismatch, "input shape \(describe(inputShape)) has a dimension ≤ 0 or above \(Shape.maximumCount)",
                              location: location)
        }
        for layer in layers where !layer.arguments.allSatisfy({ $0 <= NetworkBuilder.maximumArgument }) {
            throw CNNVizError(.invalidArgument,
                              "\(layer.kind) has an argument above \(NetworkBuilder.maximumArgument): \(layer.arguments)", location: location)
        }
        var generator = SplitMix64(seed: seed)
        var counters = [String: Int]()
        var nodes = [Node]()
        var initializers = [String: Tensor]()
        var shape = inputShape
        var current = inputName

        for layer in layers {
            let kind = layer.kind
            counters[kind, default: 0] += 1
            let name = "\(kind)\(counters[kind] ?? 0)"
            let at = "\(location): layer \(name)"
            var inputs = [current]
            var attributes = [String: Attribute]()
            switch layer {
            case .conv(let out, let kernel, let stride, let pad, let dilation):
                guard out > 0, kernel > 0, stride > 0, pad >= 0, dilation > 0 else {
                    throw CNNVizError(.invalidArgument,
                                      "conv needs out > 0, kernel > 0, stride > 0, pad ≥ 0 and dilation > 0, found out \(out), kernel \(kernel), stride \(stride), pad \(pad), dilation \(dilation)",
                                      location: at)
                }
                guard shape.count == 4, let channels = shape[1] else {
                    throw CNNVizError(.shapeMismatch,
                                      "conv needs a [N, C, H, W] input with a known C, found \(describe(shape))", location: at)
                }
                let count = try Shape.checkedCount([out, channels, kernel, kernel], location: at)
                initializers["\(name).weight"] = Tensor(shape: [out, channels, kernel, kernel],
                                                        floats: heUniform(count: count, fanIn: count / out, using: &generator))
                initializers["\(name).bias"] = Tensor.zeros([out])
                inputs += ["\(name).weight", "\(name).bias"]
                attributes = ["kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]),
                              "pads": .ints([pad, pad, pad, pad])]
                if dilation > 1 { attributes["dilations"] = .ints([dilation, dilation]) }
                let span = dilation * (kernel - 1) + 1
                shape = [shape[0], out,
                         try windowed(shape[2], kernel: span, stride: stride, pad: pad, at: at),
                         try windowed(shape[3], kernel: span, stride: stride, pad: pad, at: at)]
            case .batchNorm(let epsilon, let momentum):
                guard epsilon > 0, (0...1).contains(momentum) else {
                    throw CNNVizError(.invalidArgument, "batchNorm needs epsilon > 0 and momentum in [0, 1], found \(epsilon) and \(momentum)",
                                      location: at)
                }
                guard shape.count == 4, let channels = shape[1] else {
                    throw CNNVizError(.shapeMismatch,
                                      "batchNorm needs a [N, C, H, W] input with a known C, found \(describe(shape))", location: at)
                }
                for (parameter, value) in [("weight", Float(1)), ("bias", 0), ("running_mean", 0), ("running_var", 1)] {
                    initializers["\(name).\(parameter)"] = Tensor(shape: [channels], floats: [Float](repeating: value, count: channels))
                    inputs.append("\(name).\(parameter)")
                }
                attributes = ["epsilon": .float(epsilon), "momentum": .float(momentum)]
            case .relu:
                break
            case .maxPool(let kernel, let stride):
                guard kernel > 0, stride > 0 else {
                    throw CNNVizError(.invalidArgument, "maxPool needs kernel > 0 and stride > 0, found kernel \(kernel), stride \(stride)",
                                      location: at)
                }
                guard shape.count == 4 else {
                    throw CNNVizError(.shapeMismatch, "maxPool needs a [N, C, H, W] input, found \(describe(shape))", location: at)
                }
                attributes = ["kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride])]
                shape = [shape[0], shape[1],
                         try windowed(shape[2], kernel: kernel, stride: stride, pad: 0, at: at),
                         try windowed(shape[3], kernel: kernel, stride: stride, pad: 0, at: at)]
            case .globalAveragePool:
                guard shape.count == 4 else {
                    throw CNNVizError(.shapeMismatch, "globalAveragePool needs a [N, C, H, W] input, found \(describe(shape))",
                                      location: at)
                }
                shape = [shape[0], shape[1], 1, 1]
            case .flatten:
                guard shape.count >= 2 else {
                    throw CNNVizError(.shapeMismatch, "flatten needs at least [N, C], found \(describe(shape))", location: at)
                }
                attributes = ["axis": .int(1)]
                let rest = shape.dropFirst()
                shape = [shape[0], rest.contains(where: { $0 == nil }) ? nil : try Shape.checkedCount(rest.compactMap { $0 }, location: at)]
            case .dense(let out):
                guard out > 0 else {
                    throw CNNVizError(.invalidArgument, "dense needs out > 0, found \(out)", location: at)
                }
                guard shape.count == 2, let features = shape[1] else {
                    throw CNNVizError(.shapeMismatch,
                                      "dense needs a [N, features] input with known features, found \(describe(shape)); add flatten() before it",
                                      location: at)
                }
                let count = try Shape.checkedCount([out, features], location: at)
                initializers["\(name).weight"] = Tensor(shape: [out, features],
                                                        floats: heUniform(count: count, fanIn: features, using: &generator))
                initializers["\(name).bias"] = Tensor.zeros([out])
                inputs += ["\(name).weight", "\(name).bias"]
                attributes = ["alpha": .float(1), "beta": .float(1), "transB": .int(1)]
                shape = [shape[0], out]
            }
            nodes.append(Node(name: name, opType: layer.opType, inputs: inputs, outputs: [name], attributes: attributes))
            current = name
        }
        let taken = Set(nodes.map(\.name)).union(initializers.keys)
        for (role, name) in [("input", inputName), ("output", outputName)] where taken.contains(name) {
            throw CNNVizError(.invalidArgument,
                              "the \(role) name '\(name)' is already used by a layer or parameter; pick another", location: location)
        }
        nodes[nodes.count - 1].outputs = [outputName]
        let graph = Graph(name: graphName, nodes: nodes, initializers: initializers,
                          inputs: [ValueInfo(name: inputName, elementType: .float32, shape: inputShape)],
                          outputs: [ValueInfo(name: outputName, elementType: .float32, shape: shape)])
        return Model(graph: graph, irVersion: 8, opsetVersion: 13, producer: "cnn-viz",
                     metadata: ["cnn-viz.initialisation": "he-uniform", "cnn-viz.seed": String(seed)],
                     source: "<NetworkBuilder>")
    }

    /// floor((size + 2·pad − kernel) / stride) + 1, or nil for a symbolic size.
    func windowed(_ size: Int?, kernel: Int, stride: Int, pad: Int, at location: String) throws -> Int? {
        guard let size else { return nil }
        guard size + 2 * pad >= kernel else {
            throw CNNVizError(.shapeMismatch,
                              "kernel \(kernel) is larger than the padded input size \(size + 2 * pad) (size \(size), pad \(pad))",
                              location: location)
        }
        return (size + 2 * pad - kernel) / stride + 1
    }

    /// `count` values from U(−b, b), b = √(6 / fanIn), from the top 24 bits of each draw
    /// (exactly representable in Float, so the values do not depend on rounding mode or platform).
    func heUniform(count: Int, fanIn: Int, using generator: inout SplitMix64) -> [Float] {
        let bound = (6.0 / Double(fanIn)).squareRoot()
        return (0..<count).map { _ in
            let unit = Double(generator.next() >> 40) / Double(1 << 24)  // [0, 1)
            return Float((2 * unit - 1) * bound)
        }
    }

    func describe(_ shape: [Int?]) -> String {
        "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }
}

extension NetworkBuilder.Layer {
    var arguments: [Int] {
        switch self {
        case .conv(let out, let kernel, let stride, let pad, let dilation): return [out, kernel, stride, pad, dilation]
        case .maxPool(let kernel, let stride): return [kernel, stride]
        case .dense(let out): return [out]
        case .batchNorm, .relu, .globalAveragePool, .flatten: return []
        }
    }

    var kind: String {
        switch self {
        case .conv: return "conv"
        case .batchNorm: return "bn"
        case .relu: return "relu"
        case .maxPool: return "pool"
        case .globalAveragePool: return "gap"
        case .flatten: return "flatten"
        case .dense: return "dense"
        }
    }

    var opType: String {
        switch self {
        case .conv: return "Conv"
        case .batchNorm: return "BatchNormalization"
        case .relu: return "Relu"
        case .maxPool: return "MaxPool"
        case .globalAveragePool: return "GlobalAveragePool"
        case .flatten: return "Flatten"
        case .dense: return "Gemm"
        }
    }
}

extension NetworkBuilder {
    /// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
    /// OOPSLA 2014; the constants are those of Vigna's reference C code):
    ///
    /// state ← state + 0x9E3779B97F4A7C15
    /// z ← (state ⊕ (state ≫ 30))·0xBF58476D1CE4E5B9;  z ← (z ⊕ (z ≫ 27))·0x94D049BB133111EB;  output z ⊕ (z ≫ 31)
    ///
    /// Chosen for being tiny and fully specified, so that a seed gives the same weights on every
    /// platform and Swift version (the standard library's generator is neither seedable nor fixed).
    /// Pitfall: not cryptographic, and consecutive seeds give unrelated but not independent-by-proof streams.
    public struct SplitMix64: RandomNumberGenerator, Sendable {
        public private(set) var state: UInt64

        public init(seed: UInt64) { state = seed }

        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
