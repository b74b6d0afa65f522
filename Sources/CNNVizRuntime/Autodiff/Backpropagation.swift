import Foundation

/// The result of one forward and reverse pass.
public struct GradientResult {
    /// The seed tensor and the requested forward outputs, by the names asked for.
    public var outputs: [String: Tensor]
    /// ∂L/∂t for each requested tensor t, by the name asked for, with t's shape.
    public var gradients: [String: Tensor]
    /// The nodes whose backward rule ran, in the order they ran (their `location`s).
    public var visitedNodes: [String]
    /// The resolved tensor the seed was placed on.
    public var seedTensor: String
    public var forwardMilliseconds: Double
    public var backwardMilliseconds: Double
}

extension Session {
    /// Op types whose outputs are piecewise constant in their inputs (shapes, comparisons,
    /// indices): gradients stop there instead of failing.
    static let zeroGradientOps: Set<String> = [
        "Shape", "Size", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor",
        "ArgMax", "ArgMin", "ConstantOfShape", "NonZero", "Floor", "Ceil", "Round", "Sign", "IsNaN", "IsInf",
    ]

    /// Runs the graph forward, then back-propagates the seed to the requested tensors.
    ///
    /// Only the nodes on a path from a requested tensor to the seed are differentiated, and an
    /// input of such a node gets a gradient only when a requested tensor lies upstream of it:
    /// a gradient at a late layer visits no node before that layer, and parameter gradients
    /// are computed only for parameters named in `wrt`.
    ///
    /// - Parameters:
    ///   - wrt: tensor or node names: graph inputs, intermediate tensors, initializers.
    ///   - outputs: forward tensors to return as well (the seed tensor always is).
    ///   - hooks: activation hooks for the forward pass (as in `run`).
    ///   - gradientHooks: observe or replace ∂L/∂t at named tensors once complete.
    ///   - rules: backward rules that replace the op's own, keyed by node name or op type
    ///     (a node name wins); see `ReluGradientMode`.
    ///   - straightThrough: outputs of ReLU nodes that pass ∂L/∂x = ∂L/∂y, as if they were the
    ///     identity (feature visualisation's pre-activation objectives); every other ReLU keeps
    ///     its rule. Named by tensor, since exports often leave nodes unnamed.
    public func gradients(_ feeds: [String: Tensor], seed: GradientSeed, wrt requested: [String],
                          outputs requestedOutputs: [String] = [], hooks: [String: ActivationHook] = [:],
                          gradientHooks: [String: GradientHook] = [:],
                          rules: [String: BackwardRule] = [:], straightThrough: Set<String> = []) throws -> GradientResult {
        let seedName = try resolveTensorName(seed.output)
        let straightThrough = Set(try straightThrough.map(resolveTensorName))
        let wrt = try requested.map { ($0, try resolveTensorName($0)) }
        let wrtSet = Set(wrt.map(\.1))
        let forwardOutputs = try requestedOutputs.map { ($0, try resolveTensorName($0)) }
        var resolvedGradientHooks = [String: GradientHook]()
        for (name, hook) in gradientHooks { resolvedGradientHooks[try resolveTensorName(name)] = hook }

        let (region, requiresGradient) = try differentiatedRegion(seed: seedName, wrt: wrtSet, rules: rules)
        for (asked, name) in wrt where name != seedName && !region.contains(where: { graph.nodes[$0].inputs.contains(name) }) {
            throw CNNVizError(.invalidArgument,
                              "'\(asked)' does not influence '\(seedName)': no path in the graph leads from it to the seed",
                              location: model.source)
        }

        let preMasked = preMaskedRectifiers(region: Set(region), seed: seedName, observed: wrtSet.union(resolvedGradientHooks.keys),
                                            rules: rules, straightThrough: straightThrough)
        let maskingNodes = Set(preMasked.compactMap { maskingConsumers[$0] })
        let partReaders = partReadersForGradients(observed: Set(resolvedGradientHooks.keys), rules: rules)

        // Forward, keeping what the backward rules read (a reader of channel parts, the parts).
        var kept = wrtSet.union([seedName]).union(forwardOutputs.map(\.1))
        for index in region {
            let node = graph.nodes[index]
            let reads = (operators[index] as? Differentiable)?.backwardReads ?? .inputsAndOutputs
            var readInputs = reads == .outputsNotData ? node.inputs.dropFirst() : reads == .inputShapes ? [] : node.inputs[...]
            if let concat = partReaders[index], readInputs.first == node.inputs.first {
                readInputs = graph.nodes[concat].inputs + readInputs.dropFirst()
            }
            kept.formUnion(readInputs.filter { !$0.isEmpty && graph.initializers[$0] == nil })
            if reads.readsOutputs { kept.formUnion(node.outputs.filter { !$0.isEmpty }) }
        }
        let forwardStart = DispatchTime.now().uptimeNanoseconds
        var shapes = [String: [Int]]()
        let values = try execute(feeds, keeping: kept, hooks: hooks, shapes: &shapes)
        let backwardStart = DispatchTime.now().uptimeNanoseconds

        let seedTensor = try value(seedName, in: values)
        guard seedTensor.isFloatingPoint else {
            throw CNNVizError(.unsupportedDataType, "the seed tensor '\(seedName)' is \(seedTensor.elementType); gradients need floating point",
                              location: model.source)
        }
        var gradients = [seedName: try seed.cotangent(for: seedTensor, name: seedName)]
        var complete = [String: Tensor]()
        func finish(_ name: String) throws {
            guard var gradient = gradients[name] else { return }
            if let hook = resolvedGradientHooks[name], let replacement = try hook(name, gradient) {
                guard replacement.shape == gradient.shape else {
                    throw CNNVizError(.shapeMismatch,
                                      "a gradient hook replaced ∂L/∂'\(name)' of shape \(gradient.shape) with one of shape \(replacement.shape)")
                }
                gradient = replacement
                gradients[name] = replacement
            }
            if wrtSet.contains(name) { complete[name] = gradient }
        }

        var visited = [String]()
        for index in region.reversed() {
            let node = graph.nodes[index]
            for output in node.outputs where !output.isEmpty { try finish(output) }
            let outputGradients = node.outputs.map { $0.isEmpty ? nil : gradients[$0] }
            for output in node.outputs { gradients[output] = nil }
            guard outputGradients.contains(where: { $0 != nil }) else { continue }
            if let concat = partReaders[index], values[graph.nodes[concat].outputs[0]] == nil {
                // The forward pass read the Concat's inputs as parts; so does the backward.
                visited.append(node.location)
                try backwardOnParts(reader: index, concat: concat, values: values, outputGradient: outputGradients[0],
                                    preMasked: preMasked, requiresGradient: requiresGradient, into: &gradients)
                continue
            }
            let inputs = node.inputs.map { $0.isEmpty ? nil : values[$0] ?? graph.initializers[$0] }
            // A requested tensor that reaches the seed through an integer tensor (a Cast to
            // int64, say) has no derivative there.
            for (name, tensor) in zip(node.inputs, inputs) where requiresGradient.contains(name) && tensor?.isFloatingPoint == false {
                throw CNNVizError(.invalidArgument,
                                  "no gradient flows from \(wrt.map { "'\($0.0)'" }.joined(separator: ", ")) to '\(seedName)': the path goes through the integer tensor '\(name)' (\(tensor!.elementType)), which is not differentiable",
                                  location: node.location).located(at: model.source)
            }
            let needs = zip(node.inputs, inputs).map { name, tensor in
                requiresGradient.contains(name) && (tensor?.isFloatingPoint ?? true)
            }
            var context = BackwardContext(inputs: inputs, outputs: node.outputs.map { values[$0] },
                                          outputGradients: outputGradients, needsGradient: needs)
            context.inputShapes = zip(node.inputs, inputs).map { name, tensor in tensor?.shape ?? shapes[name] }
            if maskingNodes.contains(index) {
                context.rectifiedInputs = node.inputs.map { producers[$0].map(preMasked.contains) ?? false }
            }
            visited.append(node.location)
            var inputGradients: [Tensor?]
            let started = profiler == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer {
                if let profiler {
                    var reverse = node
                    reverse.opType += "/backward"
                    profiler(reverse, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                }
            }
            do {
                if preMasked.contains(index) || (node.opType == "Relu" && straightThrough.contains(node.outputs[0])) {
                    inputGradients = [try context.outputGradient]
                } else if let rule = rules[node.name] ?? rules[node.opType] {
                    inputGradients = try rule(node, context)
                } else if let op = operators[index] as? Differentiable {
                    inputGradients = try op.backward(context)
                } else {
                    throw CNNVizError(.unsupportedOperator, "op '\(node.opType)' has no backward rule")
                }
            } catch let error as CNNVizError {
                throw (error.location == nil ? error.located(at: node.location) : error).located(at: model.source)
            }
            for (slot, name) in node.inputs.enumerated() where needs[slot] {
                guard slot < inputGradients.count, let gradient = inputGradients[slot] else { continue }
                if let input = inputs[slot], input.shape != gradient.shape {
                    throw CNNVizError(.shapeMismatch,
                                      "backward produced ∂L/∂'\(name)' of shape \(gradient.shape) for an input of shape \(input.shape)",
                                      location: node.location).located(at: model.source)
                }
                gradients[name] = try gradients[name].map { try $0.adding(gradient) } ?? gradient
            }
        }
        // Requested tensors with no producer on the path (inputs, parameters, the layer itself).
        for name in wrtSet where complete[name] == nil {
            if gradients[name] == nil { gradients[name] = Tensor.zeros(try value(name, in: values).shape) }
            try finish(name)
        }
        let backwardEnd = DispatchTime.now().uptimeNanoseconds

        var outputs = [seedName: seedTensor]
        for (asked, name) in forwardOutputs { outputs[asked] = try value(name, in: values) }
        var result = [String: Tensor]()
        for (asked, name) in wrt { result[asked] = complete[name] }
        return GradientResult(outputs: outputs, gradients: result, visitedNodes: visited, seedTensor: seedName,
                              forwardMilliseconds: Double(backwardStart - forwardStart) / 1e6,
                              backwardMilliseconds: Double(backwardEnd - backwardStart) / 1e6)
    }

    /// A reader of channel parts's backward (`ReadsChannelParts`): ∂L/∂part straight into each
    /// Concat input's gradient; the Concat itself then has no gradient to split.
    func backwardOnParts(reader index: Int, concat: Int, values: [String: Tensor], outputGradient: Tensor?,
                         preMasked: Set<Int>, requiresGradient: Set<String>, into gradients: inout [String: Tensor]) throws {
        let (node, names) = (graph.nodes[index], graph.nodes[concat].inputs)
        guard let outputGradient, let reader = operators[index] as? ReadsChannelParts else { return }
        let started = profiler == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        let parts = try names.map { try value($0, in: values) }
        let partGradients = try located(at: node) {
            try reader.backward(parts: parts, outputGradient: outputGradient,
                                rectified: names.map { producers[$0].map(preMasked.contains) ?? false },
                                needs: names.map(requiresGradient.contains))
        }
        for (name, gradient) in zip(names, partGradients) {
            guard let gradient else { continue }
            gradients[name] = try gradients[name].map { try $0.adding(gradient) } ?? gradient
        }
        if let profiler {
            var reverse = node
            reverse.opType += "/backward"
            profiler(reverse, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
        }
    }

    /// The nodes between the requested tensors and the seed (topological order), and the
    /// tensors that carry a gradient: those downstream of a requested tensor.
    ///
    /// Pitfall: a node on such a path with no backward rule (and no override) is an error
    /// naming it, while shape and comparison ops just stop the gradient.
    func differentiatedRegion(seed: String, wrt: Set<String>, rules: [String: BackwardRule]) throws -> ([Int], Set<String>) {
        var requires = wrt
        var region = [Int]()
        for index in neededNodes(for: [seed]) {
            let node = graph.nodes[index]
            guard node.inputs.contains(where: { requires.contains($0) }) else { continue }
            if Session.zeroGradientOps.contains(node.opType) { continue }
            if !(operators[index] is Differentiable) && rules[node.name] == nil && rules[node.opType] == nil {
                throw CNNVizError(.unsupportedOperator,
                                  "the gradient of '\(seed)' must flow back through op '\(node.opType)', which has no backward rule; pass one in `rules`",
                                  location: node.location).located(at: model.source)
            }
            region.append(index)
            requires.formUnion(node.outputs.filter { !$0.isEmpty })
        }
        return (region, requires)
    }

    /// The tensor that feeds the Softmax (or LogSoftmax) producing `output`, looking through
    /// reshapes; nil when `output` does not come from one.
    public func logitsBeforeSoftmax(_ output: String) -> String? {
        guard var index = producers[(try? resolveTensorName(output)) ?? output] else { return nil }
        while true {
            let node = graph.nodes[index]
            switch node.opType {
            case "Softmax", "LogSoftmax":
                return node.inputs.first
            case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout":
                guard let input = node.inputs.first, let producer = producers[input] else { return nil }
                index = producer
            default:
                return nil
            }
        }
    }
}
