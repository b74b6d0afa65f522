import ArgumentParser
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

    @Argument(help: "Images, or directories of images (PNG and JPEG).")
    var inputs: [String] = []

    @Option(name: .long, help: "NCHW float32 .npy inputs instead of images; repeatable.")
    var tensor: [String] = []

    @Flag(name: .long, help: "Print a JSON report on stdout.")
    var json = false

    @Option(name: .long, help: "Also write an HTML page: the layer table and each layer's zero fraction per channel.")
    var html: String?

    func validate() throws {
        guard !inputs.isEmpty || !tensor.isEmpty else { throw ValidationError("give images, directories, or --tensor X.npy") }
    }

    struct Report: Encodable {
        /// The model's file, or "<embedded shapes model>".
        var model: String
        var images: Int
        var layers: [ActivationStatistics.Layer]
        var html: String?
    }

    /// The image files: files as given, directories' PNG and JPEG files in name order.
    func imageFiles() throws -> [String] {
        try inputs.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CNNVizError(.fileNotReadable, "no such file or directory", location: path)
            }
            guard isDirectory.boolValue else { return [path] }
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                .filter { ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
                .map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
        }
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let sources = try imageFiles().map { ($0, true) } + tensor.map { ($0, false) }
            guard !sources.isEmpty else {
                throw CNNVizError(.invalidArgument, "no PNG or JPEG files in \(inputs.joined(separator: ", ")), and no --tensor: nothing to take statistics of")
            }
            try InputProtection.checkOutputs(html.map { [URL(fileURLWithPath: $0)] } ?? [],
                                             inputs: sources.map { URL(fileURLWithPath: $0.0) } + modelOptions.inputFiles)
            let session = try modelOptions.loadImageSession()
            let names = session.graph.tensorNames
            var statistics = ActivationStatistics()
            for (path, isImage) in sources {
                let input = try preprocessing.tensor(image: isImage ? path : nil, tensor: isImage ? nil : path, session: session)
                let values = try session.run([session.graph.inputs[0].name: input], outputs: names)
                for name in names { statistics.add(name, values[name]!) }
            }
            let layers = statistics.layers
            if let html {
                let model = URL(fileURLWithPath: session.model.source).lastPathComponent
                try StatsPage.document(model: model, inputs: sources.count, layers: layers).write(to: URL(fileURLWithPath: html))
            }
            if json {
                try printJSON(Report(model: session.model.source, images: sources.count, layers: layers, html: html))
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
            print("\(sources.count) inputs, \(layers.count) layers (dead: never > 0, counted in non-negative layers only; n/a for signed ones)")
            if let html { print("report → \(html)") }
        }
    }
}
