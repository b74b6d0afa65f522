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
        enum CodingKeys: String, CodingKey { case mode, layers, firstFailure = "first_failure" }

        /// first_failure is written as null when every layer passes, not left out.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mode, forKey: .mode)
            try container.encode(layers, forKey: .layers)
            try container.encode(firstFailure, forKey: .firstFailure)
        }
    }

    func run() throws {
        var failed = false
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            var inputs = images.map { (image: Optional($0), tensor: String?.none) }
            if let tensor { inputs.insert((nil, tensor), at: 0) }
            if let tensorB { inputs.append((nil, tensorB)) }
            let inputA = try preprocessing.tensor(image: inputs[0].image, tensor: inputs[0].tensor, session: session)
            let inputName = session.graph.inputs[0].name
            var hooks = [String: ActivationHook]()
            if simulateFp16 { for name in session.graph.tensorNames { hooks[name] = { _, t in t.roundedToHalf() } } }
            let valuesA = try session.run([inputName: inputA], outputs: session.graph.tensorNames, hooks: hooks)
            var layers = [LayerDifference]()
            let mode: String
            if let modelB {
                mode = "two models"
                let sessionB = try Session(contentsOf: URL(fileURLWithPath: modelB))
                let inputB = try preprocessing.tensor(image: inputs[0].image, tensor: inputs[0].tensor, session: sessionB)
                let valuesB = try sessionB.run([sessionB.graph.inputs[0].name: inputB], outputs: sessionB.graph.tensorNames)
                let pairs = LayerMatching.pairs(session, sessionB, shapesA: valuesA.mapValues(\.shape), shapesB: valuesB.mapValues(\.shape))
                for (a, b) in pairs where valuesA[a]!.isFloatingPoint && valuesB[b]!.isFloatingPoint {
                    layers.append(try LayerDifference(name: a, matched: a == b ? nil : b, a: valuesA[a]!, b: valuesB[b]!, atol: atol, rtol: rtol))
                }
            } else if let against {
                mode = "against \(against)"
                for name in session.graph.tensorNames where valuesA[name]!.isFloatingPoint {
                    let url = URL(fileURLWithPath: against).appendingPathComponent(fileStem(for: name) + ".npy")
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    layers.append(try LayerDifference(name: name, a: valuesA[name]!, b: try NumpyFile.read(contentsOf: url), atol: atol, rtol: rtol))
                }
                guard !layers.isEmpty else {
                    throw CNNVizError(.invalidArgument, "no .npy file in the directory is named after a tensor of the model (e.g. \(fileStem(for: session.graph.tensorNames[0])).npy)",
                                      location: against)
                }
            } else {
                mode = "two inputs"
                let inputB = try preprocessing.tensor(image: inputs[1].image, tensor: inputs[1].tensor, session: session)
                let valuesB = try session.run([inputName: inputB], outputs: session.graph.tensorNames)
                for name in session.graph.tensorNames where valuesA[name]!.isFloatingPoint {
                    layers.append(try LayerDifference(name: name, a: valuesA[name]!, b: valuesB[name]!, atol: atol, rtol: rtol))
                }
            }
            let firstFailure = layers.first { !$0.pass }?.name
            failed = firstFailure != nil
            if json {
                try printJSON(Report(mode: mode, layers: layers, firstFailure: firstFailure))
            } else {
                DiffCommand.printTable(layers, firstFailure: firstFailure, mode: mode)
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
