import ArgumentParser
import CNNVizAttribution
import CNNVizRuntime
import CNNVizShapes
import Foundation

/// `cnn-viz shapes eval`: accuracy and attribution quality on fresh scenes with known objects.
struct ShapesEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a shapes model and every attribution method on fresh scenes: accuracy, pointing game, energy in the mask, class-discriminative hits.",
        discussion: HelpExamples.discussion("shapes eval")
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Single-object scenes (accuracy, pointing game, energy).")
    var count = 500

    @Option(name: .long, help: "Two-object scenes (class-discriminative hit rate).")
    var pairs = 200

    @Option(name: .long, help: "The scene seed; pick one the model was not trained on.")
    var seed: UInt64 = 20_261_121

    @Option(name: .long, parsing: .singleValue, help: "An attribution method to score; repeatable. Default: every CAM and gradient method.")
    var method: [String] = []

    @Option(name: .long, help: "The CAM layer. Default: the last 4-D layer before the head.")
    var layer: String?

    @Option(name: .long, help: "Scenes per batch.")
    var batchSize = 64

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        try CNNVizCommand.reportingErrors {
            guard (1...100_000).contains(count), (0...100_000).contains(pairs), batchSize >= 1 else {
                throw CNNVizError(.invalidArgument,
                                  "--count must be 1 to 100000, --pairs 0 to 100000 and --batch-size at least 1; found \(count), \(pairs), \(batchSize)")
            }
            let session = try modelOptions.loadSession()
            let methods = try method.isEmpty ? AttributionMethod.all : method.map(AttributionMethod.named)
            var evaluator = ShapesEvaluator(session: session, seed: seed, singleObjectScenes: count, twoObjectScenes: pairs)
            evaluator.layer = layer
            evaluator.batchSize = batchSize
            let bar = ProgressLine(label: "eval")
            let report = try evaluator.evaluate(methods) { name, done, total in bar.update(done, of: total, detail: name) }
            bar.finish()
            if json { return try printJSON(Manifest(report)) }
            print(String(format: "accuracy %.2f%% on %d single-object scenes (seed %llu)", 100 * report.accuracy, count, seed))
            if let pairAccuracy = report.twoObjectAccuracy {
                print(String(format: "two-object accuracy %.2f%% (both classes are the top-2 logits) on %d scenes", 100 * pairAccuracy, pairs))
            }
            print("")
            print("method                  pointing   energy in mask   class-discriminative   seconds")
            for score in report.methods {
                let discriminative = score.discriminativeHitRate.map { String(format: "%6.1f%%", 100 * $0) } ?? "      –"
                print(String(format: "%@ %7.1f%%   %6.1f%% (area %4.1f%%)   %@             %7.2f",
                             score.method.padding(toLength: 22, withPad: " ", startingAt: 0), 100 * score.pointingGame,
                             100 * score.energyInMask, 100 * score.maskAreaFraction, discriminative, score.seconds))
            }
        }
    }

    /// The JSON of DESIGN.md: `methods` keyed by method name.
    struct Manifest: Encodable {
        struct Scores: Encodable {
            var pointingGame: Double
            var pointingByClass: [String: Double]
            var energyInMask: Double
            var maskAreaFraction: Double
            /// The class-discriminative hit rate on two-object scenes; nil without them.
            var discriminative: Double?
            var seconds: Double
        }
        var accuracy: Double
        var count: Int
        var pairs: Int
        var seed: UInt64
        var twoObjectAccuracy: Double?
        var methods: [String: Scores]

        init(_ report: ShapesEvaluator.Report) {
            accuracy = report.accuracy
            count = report.singleObjectScenes
            pairs = report.twoObjectScenes
            seed = report.seed
            twoObjectAccuracy = report.twoObjectAccuracy
            methods = Dictionary(uniqueKeysWithValues: report.methods.map {
                ($0.method, Scores(pointingGame: $0.pointingGame, pointingByClass: $0.pointingByClass, energyInMask: $0.energyInMask,
                                   maskAreaFraction: $0.maskAreaFraction, discriminative: $0.discriminativeHitRate, seconds: $0.seconds))
            })
        }
    }
}
