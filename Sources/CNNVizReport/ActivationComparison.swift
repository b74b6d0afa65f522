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
    /// Round every activation of run A to float16, as a half-precision runtime would.
    public var simulateFP16 = false
    /// An element passes when |a − b| ≤ atol + rtol·|b|.
    public var atol = 1e-4
    public var rtol = 1e-3

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
    /// The first layer outside the tolerance, in topological order; nil when all pass.
    public var firstFailure: String? { layers.first { !$0.pass }?.name }
    private let readA: (String) throws -> Tensor?
    private let readB: (String) throws -> Tensor?

    init(mode: String, layers: [LayerDifference], readA: @escaping (String) throws -> Tensor?, readB: @escaping (String) throws -> Tensor?) {
        self.mode = mode
        self.layers = layers
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
        try spillA.record(session!, input: try request.inputA(session!), transform: request.simulateFP16 ? { $0.roundedToHalf() } : nil)
        var graphA = session!.graph
        graphA.initializers = [:]
        let pairs: [(String, String)]
        let readB: (String) throws -> Tensor?
        let mode: String
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
                let sessionB = try Session(contentsOf: url)
                try spill.record(sessionB, input: try makeInput(sessionB))
                graphB = sessionB.graph
            }
            graphB.initializers = [:]
            pairs = LayerMatching.pairs(graphA, graphB, shapesA: spillA.shapes, shapesB: spill.shapes)
            readB = spill.tensor
            if pairs.isEmpty {
                throw CNNVizError(.invalidArgument, "no layer of \(modelA) matches a layer of \(url.path) by name or by shape in order: the two models share no comparable tensor")
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
        var layers = [LayerDifference]()
        for (nameA, nameB) in pairs {
            guard let a = try spillA.tensor(nameA), let b = try readB(nameB), b.isFloatingPoint else { continue }
            layers.append(try LayerDifference(name: nameA, matched: nameA == nameB ? nil : nameB, a: a, b: b, atol: request.atol, rtol: request.rtol))
        }
        if layers.isEmpty {
            throw CNNVizError(.invalidArgument, "\(modelA) and run B share no floating-point activations to compare")
        }
        return ComparisonResult(mode: mode, layers: layers, readA: spillA.tensor, readB: readB)
    }
}
