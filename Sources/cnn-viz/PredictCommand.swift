import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images and print the top-K classes with their probabilities.",
        discussion: HelpExamples.discussion("predict")
    )

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var dataset: DatasetOptions

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

    @Option(name: .long, help: "How many classes to show per image.")
    var top: Int = 5

    @OptionGroup var preprocessing: PreprocessOptions

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1, found \(top)") }
        guard !dataset.isEmpty else { throw ValidationError("give at least one image, folder or --manifest") }
    }

    struct Result: Encodable {
        var image: String
        var top: [ImageReport.Prediction]
        /// The manifest's label, its class, and whether the top-1 class is it.
        var label: String?
        var trueClass: Int?
        var correct: Bool?
    }

    struct Manifest: Encodable {
        var model: String
        var results: [Result]
        var failures: [DatasetRecord.Failure]
        /// Top-1 accuracy over the images with a label.
        var labelled: Int
        var correct: Int
        var accuracy: Double?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession()
            let names = try classNames(file: labels, session: session)
            guard let input = session.graph.inputs.first else {
                throw CNNVizError(.invalidModel, "the model has no inputs", location: session.model.source)
            }
            let outputName = session.graph.outputs[0].name
            var results = [Result]()
            let synsets = try labels.map { try ClassLabels.synsets(contentsOf: URL(fileURLWithPath: $0)) } ?? []
            let (items, isDataset, _) = try dataset.items()
            let failures = try dataset.forEach(items, isDataset: isDataset) { _, item in
                let path = item.path
                let tensor = try preprocessing.tensor(image: path, tensor: nil, session: session)
                let output = try session.run([input.name: tensor], outputs: [outputName])[outputName]!.floats
                guard output.allSatisfy(\.isFinite) else {
                    throw CNNVizError(.invalidArgument, "the output '\(outputName)' for \(path) holds NaN or infinite values: the model's weights or an op overflowing Float32 produce them",
                                      location: session.model.source)
                }
                let probabilities = ImageReport.classProbabilities(output, session: session)
                let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
                let entries = ranked.map { index in
                    ImageReport.Prediction(class: index, label: names.flatMap { $0.indices.contains(index) ? $0[index] : nil } ?? "class \(index)",
                          score: probabilities[index])
                }
                let trueClass = try item.label.map { label in
                    do { return try TargetChoice.classIndex(label, labels: names, synsets: synsets) } catch let error as CNNVizError {
                        throw CNNVizError(.invalidArgument, "the manifest's label: \(error.message)", location: path)
                    }
                }
                results.append(Result(image: path, top: entries, label: item.label, trueClass: trueClass,
                                      correct: trueClass.map { $0 == entries.first?.class }))
            }
            let judged = results.compactMap(\.correct), correct = judged.filter { $0 }.count
            let accuracy = judged.isEmpty ? nil : Double(correct) / Double(judged.count)
            if json {
                try printJSON(Manifest(model: session.model.source, results: results, failures: failures, labelled: judged.count,
                                       correct: correct, accuracy: accuracy))
            } else {
                for result in results {
                    print(result.image + (result.label.map { " (label \($0)" + (result.correct! ? ", right)" : ", wrong)") } ?? ""))
                    for entry in result.top { print(String(format: "  %5d  %.4f  %@", entry.class, entry.score, entry.label)) }
                }
                if let accuracy { print(String(format: "top-1 accuracy %.2f%% (%d of %d labelled images)", 100 * accuracy, correct, judged.count)) }
            }
            if !failures.isEmpty {
                FileHandle.standardError.write(Data("predict: \(results.count) done, \(failures.count) failed of \(items.count) inputs\n".utf8))
                throw ExitCode(DatasetOptions.someInputsFailed)
            }
        }
    }
}
