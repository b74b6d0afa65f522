import ArgumentParser
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

    @Argument(help: "PNG or JPEG images.")
    var images: [String]

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

    @Option(name: .long, help: "How many classes to show per image.")
    var top: Int = 5

    @OptionGroup var preprocessing: PreprocessOptions

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1, found \(top)") }
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
    }

    struct Result: Encodable { var image: String; var top: [ImageReport.Prediction] }
    struct Manifest: Encodable { var model: String; var results: [Result] }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession()
            let names = try classNames(file: labels, session: session)
            guard let input = session.graph.inputs.first else {
                throw CNNVizError(.invalidModel, "the model has no inputs", location: session.model.source)
            }
            let outputName = session.graph.outputs[0].name
            var results = [Result]()
            for path in images {
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
                results.append(Result(image: path, top: entries))
            }
            if json {
                try printJSON(Manifest(model: session.model.source, results: results))
            } else {
                for result in results {
                    print(result.image)
                    for entry in result.top { print(String(format: "  %5d  %.4f  %@", entry.class, entry.score, entry.label)) }
                }
            }
        }
    }
}
