import ArgumentParser
import CNNVizReport
import CNNVizRuntime
import Foundation

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare activations layer by layer: two inputs through one model, one input through two models, or a model against saved tensors.",
        discussion: HelpExamples.discussion("diff", "Exit status: 0 when every layer is within tolerance, 3 when some layer is not, 1 on errors.")
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
            let preprocessing = self.preprocessing
            func input(_ index: Int) -> (Session) throws -> Tensor {
                { session in try preprocessing.tensor(image: inputs[index].image, tensor: inputs[index].tensor, session: session) }
            }
            let other: ComparisonRequest.Other = if let modelB {
                .model(URL(fileURLWithPath: modelB), input: input(0))
            } else if let against {
                .savedTensors(URL(fileURLWithPath: against))
            } else {
                .input(input(1))
            }
            var request = ComparisonRequest(loadModelA: modelOptions.loadSession, inputA: input(0), other: other)
            request.simulateFP16 = simulateFp16
            (request.atol, request.rtol) = (atol, rtol)
            let result = try ActivationComparison.run(request)
            failed = result.firstFailure != nil
            if let html { try result.document().write(to: URL(fileURLWithPath: html)) }
            if json {
                try printJSON(Report(mode: result.mode, layers: result.layers, firstFailure: result.firstFailure, html: html))
            } else {
                DiffCommand.printTable(result.layers, firstFailure: result.firstFailure, mode: result.mode)
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
