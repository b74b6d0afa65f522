import ArgumentParser
import CNNVizRuntime
import CNNVizShapes
import Foundation

/// `cnn-viz train shapes`: trains the default model with cnn-viz's own backward pass.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model with cnn-viz's own runtime.",
        discussion: HelpExamples.discussion("train"),
        subcommands: [TrainShapesCommand.self]
    )
}

struct TrainShapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Train the shapes classifier on freshly generated scenes; write it (and checkpoints) as ONNX.",
        discussion: HelpExamples.discussion("train shapes", """
        The shipped samples/models/shapes.onnx is `cnn-viz train shapes` with the defaults. \
        Each epoch draws new scenes, so the same seed gives the same model.
        """)
    )

    @OptionGroup var threadOptions: ThreadOptions

    @Option(name: .long, help: "Epochs.")
    var epochs = ShapesTrainer.Options().epochs

    @Option(name: .long, help: "Seed of the initial weights and of the training scenes.")
    var seed = ShapesTrainer.Options().seed

    @Option(name: .long, help: "Fresh scenes per epoch.")
    var scenesPerEpoch = ShapesTrainer.Options().scenesPerEpoch

    @Option(name: .long, help: "Scenes per optimisation step.")
    var batchSize = ShapesTrainer.Options().batchSize

    @Option(name: .long, help: "Adam's peak learning rate (warm-up, then cosine decay).")
    var learningRate = ShapesTrainer.Options().learningRate

    @Option(name: .long, help: "The share of two-object training scenes, 0 to 1.")
    var twoObjects = ShapesTrainer.Options().twoObjectFraction

    @Option(name: .long, help: "The trained model.")
    var out = "shapes.onnx"

    @Option(name: .long, parsing: .upToNextOption,
            help: "Also write the model after these epochs (0 is the untrained network), as DIR/epochN.onnx.")
    var checkpoints: [Int] = []

    @Option(name: .long, help: "Where checkpoints go (default: beside --out).")
    var checkpointDirectory: String?

    @Flag(name: .long, help: "Print the per-epoch reports as JSON at the end.")
    var json = false

    func validate() throws {
        guard epochs >= 0, epochs <= 10_000 else { throw ValidationError("--epochs must be 0 to 10000, found \(epochs)") }
        guard batchSize >= 2, batchSize <= 4096 else { throw ValidationError("--batch-size must be 2 to 4096, found \(batchSize)") }
        guard scenesPerEpoch >= batchSize, scenesPerEpoch <= 10_000_000 else {
            throw ValidationError("--scenes-per-epoch must be at least --batch-size (\(batchSize)) and at most 10000000, found \(scenesPerEpoch)")
        }
        guard learningRate.isFinite, learningRate > 0 else { throw ValidationError("--learning-rate must be a positive finite number, found \(learningRate)") }
        guard twoObjects.isFinite, (0...1).contains(twoObjects) else { throw ValidationError("--two-objects must be 0 to 1, found \(twoObjects)") }
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            var options = ShapesTrainer.Options()
            options.epochs = epochs
            options.seed = seed
            options.scenesPerEpoch = scenesPerEpoch
            options.batchSize = batchSize
            options.learningRate = learningRate
            guard (0...1).contains(twoObjects) else {
                throw CNNVizError(.invalidArgument, "--two-objects is a share between 0 and 1, found \(twoObjects)")
            }
            options.twoObjectFraction = twoObjects
            let trainer = ShapesTrainer(options: options)
            let output = URL(fileURLWithPath: out)
            let checkpointFolder = checkpointDirectory.map { URL(fileURLWithPath: $0) } ?? output.deletingLastPathComponent()
            if !checkpoints.isEmpty { try createOutputDirectory(checkpointFolder) }
            try createOutputDirectory(output.deletingLastPathComponent())
            let bar = ProgressLine(label: "training")
            var reports = [ShapesTrainer.EpochReport]()
            let start = DispatchTime.now().uptimeNanoseconds
            let model = try trainer.train(progress: { step, steps, loss in
                bar.update(step, of: steps, detail: String(format: "loss %.4f", loss))
            }, epochEnded: { report, model in
                bar.finish()
                reports.append(report)
                let line = report.epoch == 0
                    ? String(format: "epoch 0 (untrained): validation accuracy %.2f%%", 100 * report.validationAccuracy)
                    : String(format: "epoch %d/%d: loss %.4f, training exact-match %.2f%%, validation accuracy %.2f%%, %.1f s",
                             report.epoch, epochs, report.loss ?? 0, 100 * (report.trainingAccuracy ?? 0), 100 * report.validationAccuracy,
                             report.seconds)
                FileHandle.standardError.write(Data((line + "\n").utf8))
                if checkpoints.contains(report.epoch) {
                    let url = checkpointFolder.appendingPathComponent("epoch\(report.epoch).onnx")
                    try ONNXExporter.write(model, to: url)
                    FileHandle.standardError.write(Data("  checkpoint \(url.path)\n".utf8))
                }
            })
            try ONNXExporter.write(model, to: output)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if json { try printJSON(reports) }
            FileHandle.standardError.write(Data(String(format: "wrote %@ (%.1f s of training)\n", output.path, seconds).utf8))
        }
    }
}
