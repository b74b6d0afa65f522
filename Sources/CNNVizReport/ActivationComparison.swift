import CNNVizRuntime
import Foundation

/// What `cnn-viz diff` does, as a library call: run A and a second run B, then compare every
/// floating-point tensor they share, layer by layer (`LayerDifference`).
///
/// B is one of three things:
/// - `.input`: a second input through model A (the tensors pair by name);
/// - `.model`: the same input through another model (pairs by name, else by shape in
///   topological order; see `LayerMatching`);
/// - `.savedTensors`: a directory of `.npy` files named after A's tensors (`fileStem(for:)`),
///   e.g. dumped from onnxruntime or PyTorch hooks.
///
/// Memory: each run's activations go to an `ActivationSpill` on disk as they are made, and
/// model A is let go before model B loads, so memory holds one model and about two
/// activations at a time. Pitfall: the request therefore takes model A as a loader, not as a
/// `Session`; a session the caller keeps alive stays in memory during B's run.
public struct ComparisonRequest {
    public enum Other {
        /// A second input through model A; the closure makes it for A's session.
        case input((Session) throws -> Tensor)
        /// Model B's file and its input, made for B's session (its own preprocessing).
        case model(URL, input: (Session) throws -> Tensor)
        /// A directory of `.npy` files named after A's tensors.
        case savedTensors(URL)
    }

    /// Loads model A; called once.
    public var loadModelA: () throws -> Session
    /// A's input, made for A's session.
    public var inputA: (Session) throws -> Tensor
    public var other: Other
    /// Round run A's activations to a lower precision, as a runtime in it would store them.
    public var simulate: SimulatedPrecision?
    /// The layers `simulate` rounds (tensor or node names); empty: every layer.
    public var simulatedLayers: [String] = []
    /// How a layer passes; nil: `DiffCheck.quantizedDefault` when either model is quantized,
    /// else `DiffCheck.floatDefault`.
    public var check: DiffCheck?
    /// A NaN or ±inf in either run fails its layer.
    public var validate = false
    /// With a second model: run each of B's layers on A's inputs too (`LayerBlame`).
    public var blame = true
    /// Loads model B instead of reading `.model`'s file (a dataset shares one session).
    public var loadModelB: (() throws -> Session)?

    public init(loadModelA: @escaping () throws -> Session, inputA: @escaping (Session) throws -> Tensor, other: Other) {
        self.loadModelA = loadModelA
        self.inputA = inputA
        self.other = other
    }
}

/// The layers compared, in A's topological order, with access to both runs' tensors (kept on
/// disk for as long as the result lives).
public final class ComparisonResult {
    /// "two inputs", "two models" or "against DIRECTORY".
    public let mode: String
    public let layers: [LayerDifference]
    /// The check the layers passed or failed.
    public let check: DiffCheck
    /// Two models: B's layers by the error each adds alone, the most first.
    public let blame: [LayerBlame]

    /// The nodes of A whose layers in B add more error alone than the check allows a layer
    /// (SQNR below its minimum; 15 dB for an elementwise check): what to keep in float, as
    /// onnxruntime's quantizer takes it (`nodes_to_exclude`), most harmful first.
    public var nodesToExclude: [String] {
        LayerBlame.nodesToExclude(blame.map { ($0.addedSQNR, $0.nodes) }, floor: check.blameFloor)
    }
    /// The first layer outside the tolerance, in topological order; nil when all pass.
    public var firstFailure: String? { layers.first { !$0.pass }?.name }
    private let readA: (String) throws -> Tensor?
    private let readB: (String) throws -> Tensor?

    init(mode: String, layers: [LayerDifference], check: DiffCheck, blame: [LayerBlame], readA: @escaping (String) throws -> Tensor?,
         readB: @escaping (String) throws -> Tensor?) {
        self.mode = mode
        self.layers = layers
        self.check = check
        self.blame = blame
        self.readA = readA
        self.readB = readB
    }

    /// Run A's and run B's tensors for a compared layer, read back from disk.
    public func tensors(_ layer: LayerDifference) throws -> (a: Tensor, b: Tensor)? {
        guard let a = try readA(layer.name), let b = try readB(layer.matched ?? layer.name) else { return nil }
        return (a, b)
    }

    /// The HTML page: table, SQNR against depth, heat maps of the worst layers.
    public func document() throws -> HTMLDocument {
        try DiffPage.document(mode: mode, layers: layers, firstFailure: firstFailure) { try tensors($0) }
    }
}

public enum ActivationComparison {
    /// Runs both sides and compares them. Throws when nothing could be compared: "no layer
    /// compared" is not "every layer within tolerance".
    public static func run(_ request: ComparisonRequest) throws -> ComparisonResult {
        var session: Session? = try request.loadModelA()
        let modelA = session!.model.source
        let spillA = try ActivationSpill()
        let simulated = try Set(request.simulatedLayers.map { try session!.resolveTensorName($0) })
        let transform = request.simulate.map { precision in
            { (name: String, tensor: Tensor) in simulated.isEmpty || simulated.contains(name) ? precision.round(tensor) : tensor }
        }
        let inputA = try request.inputA(session!)
        try spillA.record(session!, input: inputA, transform: transform)
        let inputNameA = session!.graph.inputs[0].name
        var graphA = session!.graph
        graphA.initializers = [:]
        var quantized = graphA.isQuantized
        let pairs: [(String, String)]
        let readB: (String) throws -> Tensor?
        let mode: String
        var shadowed: (session: Session, input: Tensor, spilled: Set<String>)?
        switch request.other {
        case .input(let makeInput):
            mode = "two inputs"
            let spill = try ActivationSpill()
            try spill.record(session!, input: try makeInput(session!))
            pairs = graphA.tensorNames.map { ($0, $0) }
            readB = spill.tensor  // keeps the spill alive
        case .model(let url, let makeInput):
            mode = "two models"
            session = nil
            let spill = try ActivationSpill()
            var graphB: Graph
            do {
                let sessionB = try request.loadModelB?() ?? Session(contentsOf: url)
                let inputB = try makeInput(sessionB)
                try spill.record(sessionB, input: inputB)
                graphB = sessionB.graph
                if request.blame { shadowed = (sessionB, inputB, Set(spill.shapes.keys)) }
            }
            graphB.initializers = [:]
            quantized = quantized || graphB.isQuantized
            pairs = LayerMatching.pairs(graphA, graphB, shapesA: spillA.shapes, shapesB: spill.shapes)
            readB = spill.tensor
            let layersA = graphA.tensorNames.filter { spillA.shapes[$0] != nil }
            if pairs.count * 2 < layersA.count {
                let firstB = graphB.tensorNames.filter { spill.shapes[$0] != nil }.prefix(6)
                throw CNNVizError(.invalidArgument, "only \(pairs.count) of the \(layersA.count) layers of \(modelA) match a layer of \(url.path) (by name, by the float tensor a quantized one stands for, or by op type and shape in order); fewer than half is no comparison. First layers of A: \(layersA.prefix(6).joined(separator: ", ")); of B: \(firstB.joined(separator: ", "))")
            }
        case .savedTensors(let directory):
            mode = "against \(directory.path)"
            pairs = graphA.tensorNames.map { ($0, $0) }.filter { name, _ in
                FileManager.default.fileExists(atPath: directory.appendingPathComponent(fileStem(for: name) + ".npy").path)
            }
            readB = { name in try NumpyFile.read(contentsOf: directory.appendingPathComponent(fileStem(for: name) + ".npy")) }
            if pairs.isEmpty {
                throw CNNVizError(.invalidArgument, "no .npy file in the directory is named after a tensor of \(modelA) (e.g. \(fileStem(for: graphA.tensorNames[0])).npy)",
                                  location: directory.path)
            }
        }
        session = nil
        let check = request.check ?? (quantized ? .quantizedDefault : .floatDefault)
        var layers = [LayerDifference]()
        for (nameA, nameB) in pairs {
            guard let a = try spillA.tensor(nameA), let b = try readB(nameB), b.isFloatingPoint else { continue }
            layers.append(try LayerDifference(name: nameA, matched: nameA == nameB ? nil : nameB, a: a, b: b, check: check, validate: request.validate))
        }
        if layers.isEmpty {
            throw CNNVizError(.invalidArgument, "\(modelA) and run B share no floating-point activations to compare")
        }
        var blame = [LayerBlame]()
        if let (sessionB, inputB, spilled) = shadowed {
            let readA = { (name: String) throws -> Tensor? in name == inputNameA ? inputA : try spillA.tensor(name) }
            blame = try LayerBlame.rank(pairs: pairs, graphA: graphA, sessionB: sessionB, inputB: inputB, spilledB: spilled, readA: readA,
                                        totals: Dictionary(layers.map { ($0.name, $0.sqnrDB) }) { first, _ in first })
        }
        shadowed = nil
        return ComparisonResult(mode: mode, layers: layers, check: check, blame: blame, readA: spillA.tensor, readB: readB)
    }
}
