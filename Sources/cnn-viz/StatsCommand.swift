import ArgumentParser
import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import Foundation

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Activation statistics over a set of images: per layer and channel mean, std, max, zeros; dead and saturated channels.",
        discussion: HelpExamples.discussion("stats")
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions

    @OptionGroup var dataset: DatasetOptions

    @Option(name: .long, help: "NCHW float32 .npy inputs instead of images; repeatable.")
    var tensor: [String] = []

    @Flag(name: .long, help: "Print a JSON report on stdout.")
    var json = false

    @Option(name: .long, help: "Also write an HTML page: the layer table and each layer's zero fraction per channel.")
    var html: String?

    @Option(name: .long, help: "A shard's folder (--shard, or a job array): its partial sums go to DIR/stats-shard-I-of-N.json, for `cnn-viz merge DIR`.")
    var out: String?

    func validate() throws {
        guard !dataset.isEmpty || !tensor.isEmpty else { throw ValidationError("give images, directories, --manifest, or --tensor X.npy") }
    }

    struct Report: Encodable {
        /// The model's file, or "<embedded shapes model>".
        var model: String
        var images: Int
        var layers: [ActivationStatistics.Layer]
        var html: String?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let (items, isDataset, shard) = try dataset.isEmpty ? ([], false, .whole) : dataset.items(readsEnvironment: true)
            // --tensor inputs belong to shard 0, so that merged shards count each once.
            let sources = items.map { ($0.item, true) } + (shard.index == 0 ? tensor.map { (DatasetItem(path: $0, key: $0), false) } : [])
            guard shard.count == 1 || out != nil else {
                throw ValidationError("a shard (\(shard)) writes its partial statistics for `cnn-viz merge`: give --out DIR")
            }
            try InputProtection.checkOutputs(html.map { [URL(fileURLWithPath: $0)] } ?? [],
                                             inputs: sources.map { URL(fileURLWithPath: $0.0.path) } + modelOptions.inputFiles)
            let session = try modelOptions.loadImageSession()
            let names = session.graph.tensorNames
            var statistics = ActivationStatistics()
            let failures = try dataset.forEach(sources.enumerated().map { ($0.offset, $0.element.0) }, isDataset: isDataset) { position, item in
                let isImage = sources[position].1
                let input = try preprocessing.tensor(image: isImage ? item.path : nil, tensor: isImage ? nil : item.path, session: session)
                let values = try session.run([session.graph.inputs[0].name: input], outputs: names)
                for name in names { statistics.add(name, values[name]!) }
                statistics.countInput()
            }
            if let out, shard.count > 1 {
                let folder = URL(fileURLWithPath: out)
                try createOutputDirectory(folder)
                let partial = folder.appendingPathComponent(StatsCommand.partialFile(shard))
                try AtomicFile.write(try StatsCommand.encode(statistics, model: session.model.source), to: partial)
                FileHandle.standardError.write(Data("stats: shard \(shard) partial sums → \(partial.path); when every shard is done: cnn-viz merge \(folder.path)\n".utf8))
            }
            defer { if !failures.isEmpty { FileHandle.standardError.write(Data("stats: \(failures.count) of \(sources.count) inputs failed\n".utf8)) } }
            try report(statistics, model: session.model.source)
            if !failures.isEmpty { throw ExitCode(DatasetOptions.someInputsFailed) }
        }
    }

    /// Prints the statistics (a table, or JSON) and writes the --html page.
    func report(_ statistics: ActivationStatistics, model: String) throws {
        try StatsCommand.report(statistics, model: model, json: json, html: html.map { URL(fileURLWithPath: $0) })
    }

    static func report(_ statistics: ActivationStatistics, model: String, json: Bool, html: URL?) throws {
        let layers = statistics.layers
        if let html {
            try StatsPage.document(model: URL(fileURLWithPath: model).lastPathComponent, inputs: statistics.inputs, layers: layers).write(to: html)
        }
        if json {
            try printJSON(Report(model: model, images: statistics.inputs, layers: layers, html: html?.path))
            return
        }
        print("layer".padding(toLength: 30, withPad: " ", startingAt: 0) + " channels      mean       max   zeros  dead  saturated")
        for layer in layers {
            let count = Double(max(layer.channels.count, 1))
            let mean = layer.channels.reduce(0) { $0 + $1.mean } / count
            let maximum = layer.channels.map(\.max).max() ?? 0
            let zeros = layer.channels.reduce(0) { $0 + $1.zeroFraction } / count
            let dead = layer.nonNegative ? "\(layer.dead.count)" : "n/a"
            print(String(layer.name.prefix(30)).padding(toLength: 30, withPad: " ", startingAt: 0)
                  + String(format: " %8d %9.4g %9.4g %6.1f%% ", layer.channels.count, mean, maximum, 100 * zeros)
                  + String(repeating: " ", count: max(0, 5 - dead.count)) + dead + String(format: " %10d", layer.saturated.count))
        }
        print("\(statistics.inputs) inputs, \(layers.count) layers (dead: never > 0, counted in non-negative layers only; n/a for signed ones)")
        if let html { print("report → \(html.path)") }
    }

    /// A shard's partial sums: the model and the accumulators, ±∞ (an empty channel's
    /// extremes) written as strings so that they read back exactly.
    struct Partial: Codable {
        var model: String
        var statistics: ActivationStatistics
    }

    static func partialFile(_ shard: DatasetShard) -> String { "stats-shard-\(shard.index)-of-\(shard.count).json" }

    static func encode(_ statistics: ActivationStatistics, model: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(Partial(model: model, statistics: statistics))
    }

    static func decode(_ url: URL) throws -> Partial {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(Partial.self, from: try FileRead.data(contentsOf: url, what: "a stats shard")) } catch let error as CNNVizError {
            throw error
        } catch {
            throw CNNVizError(.corruptFile, "not a cnn-viz stats shard (stats --shard … --out DIR writes them)", location: url.path, cause: error)
        }
    }
}
