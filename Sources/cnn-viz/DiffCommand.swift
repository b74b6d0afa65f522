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

    @OptionGroup var dataset: DatasetOptions

    /// The positional images.
    var images: [String] { dataset.images }

    /// Model A against model B on many images (a folder, several files, a glob or a manifest).
    var isDatasetRun: Bool {
        modelB != nil && tensor == nil
            && (dataset.manifest != nil || images.count > 1 || images.contains { $0.contains("*") || DiffCommand.isDirectory($0) })
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    @Option(name: .long, help: "Use this NCHW float32 .npy as the (first) input instead of an image.")
    var tensor: String?

    @Option(name: .long, help: "The second input as a .npy, instead of a second image.")
    var tensorB: String?

    @Option(name: .long, help: "Run B's model: compare the same input through two models.")
    var modelB: String?

    @Option(name: .long, help: "A directory of .npy files named after tensors (e.g. dumped from onnxruntime or PyTorch hooks) to compare against.")
    var against: String?

    @Flag(name: .long, help: "Round every activation of run A to float16 (the same as --simulate fp16).")
    var simulateFp16 = false

    @Option(name: .long, help: "Round run A's activations to fp16 or bf16, as a runtime in that precision would store them.")
    var simulate: SimulatedPrecision?

    @Option(name: .long, help: "With --simulate: only these layers (tensor or node names, comma-separated) are rounded.")
    var simulateLayers: String?

    @Option(name: .long, help: "How a layer passes: sqnr (SQNR ≥ --min-sqnr and cosine ≥ --min-cosine; the default) or elementwise (every |a − b| ≤ atol + rtol·|b|; the default once --atol or --rtol is given).")
    var check: CheckKind?

    @Option(name: .long, help: "Smallest SQNR in dB a layer may have. Default: 40, or 15 when a model is quantized.")
    var minSqnr: Double?

    @Option(name: .long, help: "Smallest cosine a layer may have. Default: 0.999, or 0.98 when a model is quantized.")
    var minCosine: Double?

    @Option(name: .long, help: "Absolute tolerance of --check elementwise. Default: 1e-4.")
    var atol: Double?

    @Option(name: .long, help: "Relative tolerance of --check elementwise. Default: 1e-3.")
    var rtol: Double?

    @Flag(name: .customLong("validate"), help: "Fail any layer that holds a NaN or an infinity in either run.")
    var validatesValues = false

    @Flag(name: .long, help: "Print a JSON report on stdout.")
    var json = false

    @Option(name: .long, help: "Also write an HTML page: the table, SQNR against depth, heat maps and histograms of the worst layers (over a dataset: median and worst SQNR, the most blamed layers on their worst image, and the nodes to keep in float).")
    var html: String?

    func validate() throws {
        let inputs = images.count + (tensor == nil ? 0 : 1) + (tensorB == nil ? 0 : 1)
        let modes = [modelB != nil, against != nil].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("--model-b and --against exclude each other") }
        if isDatasetRun {
        } else if modes == 1 {
            guard inputs == 1 else { throw ValidationError("give one input (an image or --tensor) with --model-b or --against") }
        } else {
            guard inputs == 2 else { throw ValidationError("give two inputs (images or --tensor/--tensor-b), or one with --model-b or --against") }
        }
        guard (atol ?? 0) >= 0, (rtol ?? 0) >= 0 else { throw ValidationError("--atol and --rtol must be ≥ 0") }
        guard !(simulateFp16 && simulate != nil && simulate != .fp16) else { throw ValidationError("--simulate-fp16 and --simulate \(simulate!.rawValue) contradict each other") }
        guard simulateLayers == nil || simulate != nil || simulateFp16 else { throw ValidationError("--simulate-layers goes with --simulate") }
        let kind = check ?? (atol != nil || rtol != nil ? .elementwise : .sqnr)
        if kind == .sqnr, atol != nil || rtol != nil { throw ValidationError("--atol and --rtol set the elementwise check; with --check sqnr give --min-sqnr and --min-cosine") }
        if kind == .elementwise, minSqnr != nil || minCosine != nil { throw ValidationError("--min-sqnr and --min-cosine set the sqnr check; with --check elementwise give --atol and --rtol") }
        guard (minCosine ?? 0) >= -1, (minCosine ?? 0) <= 1 else { throw ValidationError("--min-cosine must lie in [-1, 1], found \(minCosine!)") }
    }

    enum CheckKind: String, ExpressibleByArgument, CaseIterable { case sqnr, elementwise }

    /// The check the options ask for; nil leaves the default to the comparison (by whether a
    /// model is quantized).
    var requestedCheck: DiffCheck? {
        switch check ?? (atol != nil || rtol != nil ? .elementwise : .sqnr) {
        case .elementwise: return .elementwise(atol: atol ?? 1e-4, rtol: rtol ?? 1e-3)
        case .sqnr:
            guard minSqnr != nil || minCosine != nil else { return nil }
            return .sqnr(minimumDB: minSqnr ?? 40, minimumCosine: minCosine ?? 0.999)
        }
    }

    struct Report: Encodable {
        var mode: String
        var layers: [LayerDifference]
        var firstFailure: String?
        var blame: [LayerBlame]
        var nodesToExclude: [String]
        var html: String?
        enum CodingKeys: String, CodingKey { case mode, layers, firstFailure = "first_failure", blame, nodesToExclude = "nodes_to_exclude", html }

        /// first_failure is written as null when every layer passes, not left out.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mode, forKey: .mode)
            try container.encode(layers, forKey: .layers)
            try container.encode(firstFailure, forKey: .firstFailure)
            try container.encode(blame, forKey: .blame)
            try container.encode(nodesToExclude, forKey: .nodesToExclude)
            try container.encodeIfPresent(html, forKey: .html)
        }
    }

    /// The request's options that every mode shares.
    func configured(_ request: ComparisonRequest) -> ComparisonRequest {
        var request = request
        request.simulate = simulate ?? (simulateFp16 ? .fp16 : nil)
        request.simulatedLayers = simulateLayers.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        request.check = requestedCheck
        request.validate = validatesValues
        return request
    }

    /// Model A against model B on every image: the per-layer summary, agreement, blame, and
    /// the HTML page. An image that can't be read is reported and skipped (exit status 4 when
    /// every layer passed on the others).
    func runDataset() throws -> Int32? {
        let items = try dataset.items().items.map(\.item)
        guard !items.isEmpty else { throw CNNVizError(.invalidArgument, "no image to compare in \(images.joined(separator: ", "))") }
        let url = URL(fileURLWithPath: modelB!), preprocessing = self.preprocessing
        try InputProtection.checkOutputs(html.map { [URL(fileURLWithPath: $0)] } ?? [],
                                         inputs: items.map { URL(fileURLWithPath: $0.path) } + [url] + modelOptions.inputFiles)
        var failures = [DatasetRecord.Failure]()
        let summary = try DatasetComparison.run(images: items.count, modelB: url, loadModelA: modelOptions.loadSession, figureCount: html == nil ? 0 : 3,
                                                onImageError: { k, error in
            guard let error = error as? CNNVizError, !dataset.failFast, DatasetOptions.isAbout(items[k], error) else { throw error }
            failures.append(DatasetRecord.Failure(item: items[k], error: error))
            FileHandle.standardError.write(Data((failures.last!.message + "\n").utf8))
        }) { k, _, _ in
            let input = { (session: Session) in try preprocessing.tensor(image: items[k].path, tensor: nil, session: session) }
            return configured(ComparisonRequest(loadModelA: modelOptions.loadSession, inputA: input, other: .model(url, input: input)))
        }
        if let html { try DatasetDiffPage.document(summary) { items[$0].path }.write(to: URL(fileURLWithPath: html)) }
        if json {
            try printJSON(DatasetReport(summary: summary, skipped: failures, html: html))
        } else {
            DiffCommand.printSummary(summary)
            if !failures.isEmpty { print("\(failures.count) image\(failures.count == 1 ? "" : "s") skipped: " + failures.map(\.image).joined(separator: ", ")) }
            if let html { print("report → \(html)") }
        }
        return summary.firstFailure != nil ? 3 : failures.isEmpty ? nil : DatasetOptions.someInputsFailed
    }

    /// The dataset summary's JSON, with the skipped images by path and reason.
    struct DatasetReport: Encodable {
        var summary: DatasetComparison.Summary
        var skipped: [DatasetRecord.Failure]
        var html: String?
        enum CodingKeys: String, CodingKey { case skipped, html }

        func encode(to encoder: Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(skipped, forKey: .skipped)
            try container.encodeIfPresent(html, forKey: .html)
        }
    }

    func run() throws {
        var failed = false, exitStatus: Int32?
        try CNNVizCommand.reportingErrors {
            if isDatasetRun {
                exitStatus = try runDataset()
                return
            }
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
            let request = configured(ComparisonRequest(loadModelA: modelOptions.loadSession, inputA: input(0), other: other))
            let result = try ActivationComparison.run(request)
            failed = result.firstFailure != nil
            if let html { try result.document().write(to: URL(fileURLWithPath: html)) }
            if json {
                try printJSON(Report(mode: result.mode, layers: result.layers, firstFailure: result.firstFailure, blame: result.blame,
                                     nodesToExclude: result.nodesToExclude, html: html))
            } else {
                DiffCommand.printTable(result.layers, firstFailure: result.firstFailure, mode: result.mode, check: result.check)
                DiffCommand.printBlame(result.blame, nodesToExclude: result.nodesToExclude)
                if let html { print("report → \(html)") }
            }
        }
        if failed { throw ExitCode(3) }
        if let exitStatus { throw ExitCode(exitStatus) }
    }

    /// An aligned table that fits 100 columns, then Polygraphy's statistics and histogram of
    /// |a − b| for the first three failing layers.
    static func printTable(_ layers: [LayerDifference], firstFailure: String?, mode: String, check: DiffCheck) {
        func clip(_ text: String, _ width: Int) -> String {
            text.count <= width ? text.padding(toLength: width, withPad: " ", startingAt: 0) : "…" + text.suffix(width - 1)
        }
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "inf" }
        print("\(clip("layer", 28)) \(clip("shape", 18))   max|a−b|  mean|a−b|   rel L2   cosine  SQNR dB  ok")
        for layer in layers {
            let shape = "[" + layer.shape.map(String.init).joined(separator: ",") + "]"
            print("\(clip(layer.name + (layer.matched.flatMap { LayerMatching.floatName($0) == layer.name ? nil : "→" + $0 } ?? ""), 28)) \(clip(shape, 18)) "
                  + String(format: "%10.3g %10.3g ", layer.maxAbs, layer.meanAbs)
                  + number(layer.relativeL2, "%8.2g").padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                  + String(format: "%8.6f ", layer.cosine) + number(layer.sqnrDB, "%8.1f").leftPadded(8) + "  "
                  + (layer.pass ? "yes" : "NO"))
        }
        for layer in layers.filter({ !$0.pass }).prefix(3) { print(histogram(layer)) }
        let rule: String
        switch check {
        case .sqnr(let db, let cosine): rule = String(format: "SQNR ≥ %g dB and cosine ≥ %g", db, cosine)
        case .elementwise(let atol, let rtol): rule = String(format: "|a − b| ≤ %g + %g·|b|", atol, rtol)
        }
        print("\(mode): \(layers.count) layers compared (\(rule)); " + (firstFailure.map { "first failure: \($0)" } ?? "all within tolerance"))
    }

    /// A dataset diff: per layer the median and worst SQNR and the median added, then the
    /// outputs' agreement and the blame.
    static func printSummary(_ summary: DatasetComparison.Summary) {
        func decibels(_ value: Double?) -> String { (value.map { String(format: "%.1f", $0) } ?? "inf").leftPadded(8) }
        print("layer".padding(toLength: 40, withPad: " ", startingAt: 0) + "  median dB  worst dB  added dB  ok")
        for layer in summary.layers {
            let name = layer.name.count <= 40 ? layer.name.padding(toLength: 40, withPad: " ", startingAt: 0) : "…" + layer.name.suffix(39)
            print("\(name)  \(decibels(layer.medianSQNR))  \(decibels(layer.worstSQNR)) \(decibels(layer.medianAddedSQNR))  \(layer.pass ? "yes" : "NO")")
        }
        print(String(format: "%d images: top-1 agreement %d/%d, mean KL(A ‖ B) of the outputs %.3g; ", summary.images, summary.top1Agreement,
                     summary.images, summary.meanKLDivergence) + (summary.firstFailure.map { "first failure: \($0)" } ?? "every layer within tolerance on every image"))
        print("layers by the median error they add alone: " + summary.blame.prefix(5).map { "\($0.name) (\(decibels($0.medianAddedSQNR).trimmingCharacters(in: .whitespaces)) dB)" }.joined(separator: ", "))
        if !summary.nodesToExclude.isEmpty {
            print("keep in float (onnxruntime quantizer's nodes_to_exclude): " + summary.nodesToExclude.map { "\"\($0)\"" }.joined(separator: ", "))
        }
    }

    /// The five layers of B that add the most error alone, and what to keep in float.
    static func printBlame(_ blame: [LayerBlame], nodesToExclude: [String]) {
        guard !blame.isEmpty else { return }
        print("layers by the error they add alone (B's layer on A's inputs):")
        for entry in blame.prefix(5) {
            func decibels(_ value: Double?) -> String { (value.map { String(format: "%.1f", $0) } ?? "none").leftPadded(8) }
            print("  \(decibels(entry.addedSQNR)) dB added, \(decibels(entry.totalSQNR)) dB in all  \(entry.layer)")
        }
        if !nodesToExclude.isEmpty {
            print("keep in float (onnxruntime quantizer's nodes_to_exclude): " + nodesToExclude.map { "\"\($0)\"" }.joined(separator: ", "))
        }
    }

    /// Polygraphy's view of one layer: statistics of |a − b|, the smallest tolerances that
    /// would pass, and a bar per tenth of [0, max |a − b|].
    static func histogram(_ layer: LayerDifference) -> String {
        var lines = [layer.name + String(format: ": |a−b| mean %.3g, std %.3g, median %.3g, p90 %.3g, p95 %.3g, p99 %.3g, max %.3g; passes elementwise at atol %.3g (rtol 0)",
                            layer.meanAbs, layer.stdAbs, layer.medianAbs, layer.p90Abs, layer.p95Abs, layer.p99Abs,
                            layer.maxAbs, layer.minimumAtol) + (layer.minimumRtol.map { String(format: " or rtol %.3g (atol 0)", $0) } ?? "")]
        if layer.nonFiniteA + layer.nonFiniteB > 0 { lines.append("  NaN or inf: \(layer.nonFiniteA) in A, \(layer.nonFiniteB) in B") }
        let largest = max(layer.histogram.max() ?? 1, 1)
        for (bin, count) in layer.histogram.enumerated() {
            let low = layer.maxAbs * Double(bin) / 10, high = layer.maxAbs * Double(bin + 1) / 10
            lines.append(String(format: "  %9.3g – %-9.3g | %8d | ", low, high, count) + String(repeating: "#", count: (count * 40 + largest - 1) / largest))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension SimulatedPrecision: ExpressibleByArgument {}
