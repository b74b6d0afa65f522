import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import Foundation

struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Feature visualisation: optimise images that excite a layer's channels (Lucent's parameterisation and transforms), with the real images that excite them most.",
        discussion: HelpExamples.discussion("visualize", """
        One image per objective, all optimised in one batch: the Fourier spectrum (1/f scaled) \
        and decorrelated colour of Lucent's param.image, Lucent's standard transforms drawn from \
        --seed, Adam. The model's preprocessing is applied inside the optimisation.
        """)
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions

    @Option(name: .long, help: "The layer (tensor or node name) whose channels to visualise.")
    var layer: String?

    @Option(name: .long, help: "Channels of --layer: a list of indices and ranges, e.g. 0-15,32. Default: 0-7.")
    var channels: String?

    @Option(name: .long, help: "Maximise one position of each channel (ROW,COLUMN, or 'centre') instead of the channel's mean.")
    var neuron: String?

    @Option(name: .customLong("class"), help: "Class logits to maximise (indices or names, comma-separated), instead of --layer's channels.")
    var classes: String?

    @Option(name: .long, help: "Class names, one per line (for --class names).")
    var labels: String?

    @Option(name: .long, help: "A .npy vector over --layer's channels: maximise the cosine of the activations with it.")
    var direction: String?

    @Flag(name: .long, help: "Maximise the negative of the objective (what suppresses the unit).")
    var negative = false

    @Option(name: .long, help: "Images per objective (with --diversity, Lucid's Gram-matrix diversity makes them differ).")
    var imagesPerObjective = 1

    @Option(name: .long, help: "Weight of the diversity term across each objective's images. Default: 0 (off).")
    var diversity: Float = 0

    @Option(name: .long, help: "Image parameterisation: fourier (Lucent's default) or pixel.")
    var param: Basis = .fourier

    @Option(name: .long, help: "Spectrum decay of the Fourier parameterisation: scale 1/max(f, 1/size)^decay.")
    var decay: Double = 1

    @Flag(name: .long, help: "Leave the colours correlated (no colour decorrelation before the sigmoid).")
    var noDecorrelate = false

    @Option(name: .long, help: "Transforms each step: standard (Lucent's), none, or a list such as pad=12@0.5,jitter=8,scale=0.9:1.1:0.02,rotate=-10:10:1,jitter=4.")
    var transforms: String = "standard"

    @Option(name: .long, help: "Total-variation weight on the images.")
    var tv: Float = 0

    @Option(name: .long, help: "L1 weight on the images' distance to mid grey.")
    var l1: Float = 0

    @Option(name: .long, help: "Weight of Lucid's blur penalty (distance to the image's own 3×3 blur).")
    var blur: Float = 0

    @Option(name: .long, help: "Optimisation steps.")
    var steps = 512

    @Option(name: .customLong("lr"), help: "Adam's learning rate.")
    var learningRate: Float = 0.05

    @Option(name: .customLong("image-size"), help: "The optimised images' size, N or W×H. Default: the model's input size (224 when it takes any size).")
    var imageSize: String?

    @Option(name: .long, help: "Seed of the initial parameters and the transforms' draws.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Images per optimisation batch (more use more memory). Default: 32.")
    var batch: Int?

    @Option(name: .long, parsing: .upToNextOption, help: "Images (files, folders, quoted globs) in which to find each channel's strongest examples, cropped to the receptive field.")
    var examples: [String] = []

    @Option(name: .long, help: "Dataset examples per channel.")
    var topK = 9

    @Option(name: .long, parsing: .singleValue, help: "A checkpoint of the same network (repeat, in training order): the same objectives and seed optimised on each, one row per checkpoint and one for --model in evolution.png.")
    var checkpoint: [String] = []

    @Option(name: .long, help: "Where files go. Default: reports/<model stem>/visualize/<layer>.")
    var out: String?

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    enum Basis: String, ExpressibleByArgument, CaseIterable { case fourier, pixel }

    func validate() throws {
        guard layer != nil || classes != nil else { throw ValidationError("give --layer (its channels) or --class") }
        guard classes == nil || (channels == nil && neuron == nil && direction == nil) else {
            throw ValidationError("--class excludes --channels, --neuron and --direction")
        }
        guard direction == nil || (channels == nil && neuron == nil) else { throw ValidationError("--direction excludes --channels and --neuron") }
        guard steps >= 0 else { throw ValidationError("--steps must be ≥ 0, found \(steps)") }
        guard learningRate > 0 else { throw ValidationError("--lr must be > 0, found \(learningRate)") }
        guard imagesPerObjective >= 1 else { throw ValidationError("--images-per-objective must be ≥ 1") }
        guard (batch ?? 1) >= 1 else { throw ValidationError("--batch must be ≥ 1") }
        guard topK >= 1 else { throw ValidationError("--top-k must be ≥ 1") }
        guard examples.isEmpty || (classes == nil && direction == nil) else { throw ValidationError("--examples goes with --layer's channels") }
        guard diversity == 0 || imagesPerObjective >= 2 else { throw ValidationError("--diversity needs --images-per-objective 2 or more") }
        _ = try channels.map(VisualizeCommand.indexList)
    }

    /// "0-3,7" → [0, 1, 2, 3, 7].
    static func indexList(_ text: String) throws -> [Int] {
        var result = [Int]()
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let bounds = part.split(separator: "-", maxSplits: 1).map { Int($0) }
            guard !bounds.isEmpty, bounds.allSatisfy({ $0 != nil && $0! >= 0 }), bounds.count == 1 || bounds[0]! <= bounds[1]! else {
                throw ValidationError("--channels: '\(part)' is not an index or a range A-B (A ≤ B)")
            }
            result += Array(bounds[0]!...(bounds.count == 2 ? bounds[1]! : bounds[0]!))
        }
        return result
    }

    struct Manifest: Encodable {
        var model: String
        var layer: String
        var steps: Int
        var seed: UInt64
        var images: [ChannelReportFiles.Image]
        var grid: String
        var picture: String
        var report: String
        var evolution: String?
        var receptiveField: String
        var examples: [[ChannelExamples.Example]]
        var skipped: [DatasetRecord.Failure]
    }

    func run() throws {
        var someExamplesFailed = false
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession(forGradients: true)
            let mapping = ModelInputMapping(try preprocessing.preprocessing(for: session))
            let objectives = try makeObjectives(session)
            var request = FeatureVisualizationRequest(objectives: objectives.flatMap { Array(repeating: $0, count: imagesPerObjective) })
            request.parameterization = ImageParameterization(basis: param == .pixel ? .pixel : .fourier(decay: decay), decorrelatesColor: !noDecorrelate)
            request.transforms = try ImageTransform.list(parsing: transforms)
            request.regularization = ImageRegularization(totalVariation: tv, l1: l1, blur: blur)
            request.diversity = diversity
            request.steps = steps
            request.learningRate = learningRate
            request.seed = seed
            request.inputMapping = mapping
            if let imageSize {
                let size = try Preprocessing.parseSize(imageSize, option: "--image-size")
                (request.height, request.width) = (size.height, size.width)
            }
            let stem = URL(fileURLWithPath: session.model.source).deletingPathExtension().lastPathComponent
            let layerName = objectives[0].layer
            let directory = URL(fileURLWithPath: out ?? "reports/\(stem)/visualize/\(fileStem(for: layerName))")
            try InputProtection.checkOutputs([directory], inputs: modelOptions.inputFiles + checkpoint.map { URL(fileURLWithPath: $0) })
            // Examples first: a folder with no readable image is an error before anything is written.
            let (examples, skipped) = try findExamples(session, layer: layerName, objectives: request.objectives)
            let runner = FeatureVisualization(session: session)
            let progress = ProgressLine(label: "visualize")
            runner.progress = { done, total in progress.update(done, of: total) }
            let result = try runner.run(request, batchSize: batch)
            progress.finish()
            // Every optimisation runs before the first file is written: a checkpoint that fails leaves nothing behind.
            let evolution = try evolutionRows(request, final: (session, result))
            let field = try ChannelExamples.field(of: layerName, session: session, inputShape: [1, mapping.channels, result.images.shape[2], result.images.shape[3]])
            let rows = request.objectives.indices.map { index in
                ChannelReport.Row(title: (request.objectives[index].negated ? "−" : "") + request.objectives[index].unit, image: RGBImage(unitBatch: result.images, index: index),
                                  objective: result.objectives[index], examples: index < examples.count ? examples[index] : [])
            }
            let report = ChannelReport(model: session.model.source, layer: layerName, rows: rows, field: field)
            try createOutputDirectory(directory)
            let files = try ChannelReportFiles.write(result, request: request, copies: imagesPerObjective, report: report, evolution: evolution, to: directory)
            let manifest = Manifest(model: session.model.source, layer: layerName, steps: steps, seed: seed, images: files.images, grid: files.grid.path,
                                    picture: files.picture.path, report: files.page.path, evolution: files.evolution?.path,
                                    receptiveField: report.fieldDescription, examples: examples, skipped: skipped)
            if json {
                try printJSON(manifest)
            } else {
                for entry in files.images { print(String(format: "%@: %.4g → %@", entry.objective, entry.value, entry.image)) }
                print("grid → \(files.grid.path)\nchannels → \(files.picture.path)\nreport → \(files.page.path)")
                if let evolution = manifest.evolution { print("evolution → \(evolution)") }
            }
            someExamplesFailed = !skipped.isEmpty
        }
        if someExamplesFailed { throw ExitCode(DatasetOptions.someInputsFailed) }
    }

    typealias EvolutionRow = ChannelReportFiles.EvolutionRow

    /// With --checkpoint: the request optimised on each checkpoint (same objectives, same seed),
    /// then the final model's result; empty without.
    func evolutionRows(_ request: FeatureVisualizationRequest, final: (Session, FeatureVisualizationResult)) throws -> [EvolutionRow] {
        guard !checkpoint.isEmpty else { return [] }
        var rows = [EvolutionRow]()
        for path in checkpoint {
            let session = try ModelOptions(model: path).loadImageSession(forGradients: true)
            let result = try FeatureVisualization(session: session).run(request, batchSize: batch)
            rows.append((URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, result.images, result.objectives))
        }
        return rows + [(URL(fileURLWithPath: final.0.model.source).deletingPathExtension().lastPathComponent, final.1.images, final.1.objectives)]
    }

    /// Each objective's top-k dataset examples (one list per image of the batch, empty without
    /// --examples); an unreadable image is reported and skipped.
    func findExamples(_ session: Session, layer: String, objectives: [VisualizationObjective]) throws -> ([[ChannelExamples.Example]], [DatasetRecord.Failure]) {
        guard !examples.isEmpty else { return ([], []) }
        let items = try DatasetListing(sources: examples).items()
        guard !items.isEmpty else { throw CNNVizError(.invalidArgument, "no image in --examples \(examples.joined(separator: " "))") }
        var finder = try ChannelExamples(session: session, layer: layer, preprocessing: try preprocessing.preprocessing(for: session))
        finder.count = topK
        var failures = [DatasetRecord.Failure]()
        finder.onImageError = { path, error in
            guard let item = items.first(where: { $0.path == path }), let error = error as? CNNVizError, DatasetOptions.isAbout(item, error) else { throw error }
            failures.append(DatasetRecord.Failure(item: item, error: error))
            FileHandle.standardError.write(Data((failures.last!.message + "\n").utf8))
        }
        let channels = objectives.map { objective -> Int in
            switch objective.kind {
            case .channel(let c), .neuron(let c, _, _): return c
            case .direction: return 0
            }
        }
        let found = try finder.find(channels: channels, images: items.map(\.path))
        if failures.count == items.count {
            throw CNNVizError(.invalidArgument, "none of the \(items.count) --examples image\(items.count == 1 ? "" : "s") could be read; the first: \(failures[0].reason)")
        }
        return (found, failures)
    }

    /// The objectives the options ask for, one per channel or class.
    func makeObjectives(_ session: Session) throws -> [VisualizationObjective] {
        if let classes {
            let output = session.graph.outputs[0].name
            let logits = session.logitsBeforeSoftmax(output) ?? output
            let names = try classNames(file: labels, session: session)
            return try classes.split(separator: ",").map { entry in
                try VisualizationObjective(layer: logits, .channel(TargetChoice.classIndex(entry.trimmingCharacters(in: .whitespaces), labels: names)), negated: negative)
            }
        }
        let layer = self.layer!
        if let direction {
            let vector = try NumpyFile.read(contentsOf: URL(fileURLWithPath: direction))
            return [VisualizationObjective(layer: layer, .direction(vector.floats), negated: negative)]
        }
        var position: (Int?, Int?) = (nil, nil)
        if let neuron, neuron != "centre", neuron != "center" {
            let parts = neuron.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let row = parts[0], let column = parts[1] else {
                throw CNNVizError(.invalidArgument, "--neuron: expected ROW,COLUMN or centre, found '\(neuron)'")
            }
            position = (row, column)
        }
        return try (channels.map(VisualizeCommand.indexList) ?? Array(0..<8)).map { c in
            VisualizationObjective(layer: layer, neuron == nil ? .channel(c) : .neuron(c, row: position.0, column: position.1), negated: negative)
        }
    }
}
