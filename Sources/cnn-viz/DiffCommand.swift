import ArgumentParser
import CNNVizReport
import CNNVizRuntime
import Foundation

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare activations layer by layer: two inputs through one model, one input through two models, or a model against saved tensors.",
        discussion: "Exit status: 0 when every layer is within tolerance, 3 when some layer is not, 1 on errors."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions

    @Argument(help: "One image (two models, or --against), or two images (one model).")
    var images: [String] = []

    @Option(name: .long, help: "Use this NCHW float32 .npy as the (first) input instead of an image.")
    var tensor: String?

    @Option(name: .long, help: "The second input as a .npy, instead of a second image.")
    var tensorB: String?

    @Option(name: .long, help: "Run B's model: compare the same input through two models.")
    var modelB: String?

    @Option(name: .long, help: "A directory of .npy files named after tensors (e.g. dumped from onnxruntime or PyTorch hooks) to compare against.")
    var against: String?

    @Flag(name: .long, help: "Round every activation of run A to float16, as a half-precision runtime would.")
    var simulateFp16 = false

    @Option(name: .long, help: "Absolute tolerance: an element passes when |a − b| ≤ atol + rtol·|b|.")
    var atol: Double = 1e-4

    @Option(name: .long, help: "Relative tolerance.")
    var rtol: Double = 1e-3

    @Flag(name: .long, help: "Print a JSON report on stdout.")
    var json = false

    @Option(name: .long, help: "Also write an HTML page: the table, SQNR against depth, heat maps of the worst layers.")
    var html: String?

    func validate() throws {
        let inputs = images.count + (tensor == nil ? 0 : 1) + (tensorB == nil ? 0 : 1)
        let modes = [modelB != nil, against != nil].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("--model-b and --against exclude each other") }
        if modes == 1 {
            guard inputs == 1 else { throw ValidationError("give one input (an image or --tensor) with --model-b or --against") }
        } else {
            guard inputs == 2 else { throw ValidationError("give two inputs (images or --tensor/--tensor-b), or one with --model-b or --against") }
        }
        guard atol >= 0, rtol >= 0 else { throw ValidationError("--atol and --rtol must be ≥ 0") }
    }

    struct Report: Encodable {
        var mode: String
        var layers: [LayerDifference]
        var firstFailure: String?
        var html: String?
        enum CodingKeys: String, CodingKey { case mode, layers, firstFailure = "first_failure", html }

        /// first_failure is written as null when every layer passes, not left out.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mode, forKey: .mode)
            try container.encode(layers, forKey: .layers)
            try container.encode(firstFailure, forKey: .firstFailure)
            try container.encodeIfPresent(html, forKey: .html)
        }
    }

    func run() throws {
        var failed = false
        try CNNVizCommand.reportingErrors {
            let inputFiles = (images + [tensor, tensorB, modelB].compactMap { $0 }).map { URL(fileURLWithPath: $0) }
            try InputProtection.checkOutputs(html.map { [URL(fileURLWithPath: $0)] } ?? [], inputs: inputFiles + modelOptions.inputFiles)
            var inputs = images.map { (image: Optional($0), tensor: String?.none) }
            if let tensor { inputs.insert((nil, tensor), at: 0) }
            if let tensorB { inputs.append((nil, tensorB)) }
            // Each run's activations go to disk as they are made, and a model is let go once its
            // run is on disk, so that memory holds one model and about two activations, not
            // every activation of both runs.
            var session: Session? = try modelOptions.loadSession()
            let inputA = try preprocessing.tensor(image: inputs[0].image, tensor: inputs[0].tensor, session: session!)
            let spillA = try ActivationSpill()
            try spillA.record(session!, input: inputA, transform: simulateFp16 ? { $0.roundedToHalf() } : nil)
            var graphA = session!.graph
            graphA.initializers = [:]
            var pairs = [(String, String)]()
            var readB: (String) throws -> Tensor?
            let mode: String
            if let modelB {
                mode = "two models"
                session = nil
                let spill = try ActivationSpill()
                var graphB: Graph
                do {
                    let sessionB = try Session(contentsOf: URL(fileURLWithPath: modelB))
                    try spill.record(sessionB, input: try preprocessing.tensor(image: inputs[0].image, tensor: inputs[0].tensor, session: sessionB))
                    graphB = sessionB.graph
                }
                graphB.initializers = [:]
                pairs = LayerMatching.pairs(graphA, graphB, shapesA: spillA.shapes, shapesB: spill.shapes)
                readB = spill.tensor  // keeps the spill alive
            } else if let against {
                mode = "against \(against)"
                let directory = URL(fileURLWithPath: against)
                pairs = graphA.tensorNames.map { ($0, $0) }.filter { name, _ in
                    FileManager.default.fileExists(atPath: directory.appendingPathComponent(fileStem(for: name) + ".npy").path)
                }
                readB = { name in try NumpyFile.read(contentsOf: directory.appendingPathComponent(fileStem(for: name) + ".npy")) }
            } else {
                mode = "two inputs"
                let spill = try ActivationSpill()
                try spill.record(session!, input: try preprocessing.tensor(image: inputs[1].image, tensor: inputs[1].tensor, session: session!))
                pairs = graphA.tensorNames.map { ($0, $0) }
                readB = spill.tensor  // keeps the spill alive
            }
            session = nil
            var layers = [LayerDifference]()
            for (nameA, nameB) in pairs {
                guard let a = try spillA.tensor(nameA), let b = try readB(nameB), b.isFloatingPoint else { continue }
                layers.append(try LayerDifference(name: nameA, matched: nameA == nameB ? nil : nameB, a: a, b: b, atol: atol, rtol: rtol))
            }
            if let against, layers.isEmpty {
                throw CNNVizError(.invalidArgument, "no .npy file in the directory is named after a tensor of the model (e.g. \(fileStem(for: graphA.tensorNames[0])).npy)",
                                  location: against)
            }
            if layers.isEmpty {
                // Nothing compared is not "all within tolerance": say why instead of succeeding.
                let modelA = modelOptions.model ?? "the embedded shapes model"
                throw CNNVizError(.invalidArgument, modelB != nil
                    ? "no layer of \(modelA) matches a layer of \(modelB!) by name or by shape in order: the two models share no comparable tensor"
                    : "\(modelA) has no floating-point activations to compare")
            }
            let firstFailure = layers.first { !$0.pass }?.name
            failed = firstFailure != nil
            if let html {
                let document = try DiffPage.document(mode: mode, layers: layers, firstFailure: firstFailure) { layer in
                    guard let a = try spillA.tensor(layer.name), let b = try readB(layer.matched ?? layer.name) else { return nil }
                    return (a, b)
                }
                try document.write(to: URL(fileURLWithPath: html))
            }
            if json {
                try printJSON(Report(mode: mode, layers: layers, firstFailure: firstFailure, html: html))
            } else {
                DiffCommand.printTable(layers, firstFailure: firstFailure, mode: mode)
                if let html { print("report → \(html)") }
            }
        }
        if failed { throw ExitCode(3) }
    }

    /// An aligned table that fits 100 columns.
    static func printTable(_ layers: [LayerDifference], firstFailure: String?, mode: String) {
        func clip(_ text: String, _ width: Int) -> String {
            text.count <= width ? text.padding(toLength: width, withPad: " ", startingAt: 0) : "…" + text.suffix(width - 1)
        }
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "inf" }
        print("\(clip("layer", 28)) \(clip("shape", 18))   max|a−b|  mean|a−b|   rel L2   cosine  SQNR dB  ok")
        for layer in layers {
            let shape = "[" + layer.shape.map(String.init).joined(separator: ",") + "]"
            print("\(clip(layer.name + (layer.matched.map { "→" + $0 } ?? ""), 28)) \(clip(shape, 18)) "
                  + String(format: "%10.3g %10.3g ", layer.maxAbs, layer.meanAbs)
                  + number(layer.relativeL2, "%8.2g").padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                  + String(format: "%8.6f ", layer.cosine) + number(layer.sqnrDB, "%8.1f").leftPadded(8) + "  "
                  + (layer.pass ? "yes" : "NO"))
        }
        print("\(mode): \(layers.count) layers compared; " + (firstFailure.map { "first failure: \($0)" } ?? "all within tolerance"))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
