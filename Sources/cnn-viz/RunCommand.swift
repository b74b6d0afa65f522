import ArgumentParser
import CNNVizRuntime
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on a .npy tensor and write the requested tensors as .npy files."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "The input tensor (NCHW .npy) for the model's only input.")
    var tensor: String?

    @Option(name: .long, help: "An input given by name, as NAME=PATH.npy; repeat for several inputs.")
    var feed: [String] = []

    @Option(name: .long, help: "A tensor or node name to write; repeat for several. Default: the graph outputs.")
    var output: [String] = []

    @Option(name: .long, help: "The directory the .npy files go to.")
    var out: String = "reports/run"

    @Flag(name: .long, help: "Print a JSON manifest of the files written on stdout.")
    var json = false

    @Option(name: .customLong("repeat"), help: "Run the forward pass N more times after the first and report the median time.")
    var repeatCount: Int = 0

    @Flag(name: .long, help: "Write FLOAT16/DOUBLE tensors in their declared type instead of the Float32 values cnn-viz computed.")
    var keepDtype = false

    @Flag(name: .long, help: "Print the time per run spent in each op type and the slowest layers on stderr.")
    var profile = false

    func validate() throws {
        guard repeatCount >= 0 else { throw ValidationError("--repeat must be 0 or more, found \(repeatCount)") }
        guard tensor != nil || !feed.isEmpty else { throw ValidationError("give the input with --tensor X.npy or --feed NAME=X.npy") }
    }

    struct Manifest: Encodable {
        var outputs: [String: String]
        var timing: [String: Double]?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            var feeds = [String: Tensor]()
            if let tensor {
                guard session.graph.inputs.count == 1 else {
                    throw CNNVizError(.invalidArgument,
                                      "the model has \(session.graph.inputs.count) inputs (\(session.graph.inputs.map(\.name).joined(separator: ", "))); give each with --feed NAME=PATH")
                }
                feeds[session.graph.inputs[0].name] = try NumpyFile.read(contentsOf: URL(fileURLWithPath: tensor))
            }
            for entry in feed {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw CNNVizError(.invalidArgument, "--feed expects NAME=PATH.npy, found '\(entry)'")
                }
                feeds[String(entry[..<equals])] = try NumpyFile.read(contentsOf: URL(fileURLWithPath: String(entry[entry.index(after: equals)...])))
            }
            let names = output.isEmpty ? session.graph.outputs.map(\.name) : output
            var perOp = [String: Double]()
            var perNode = [String: Double]()
            if profile {
                session.profiler = { node, ms in
                    perOp[node.opType, default: 0] += ms
                    perNode[node.outputs.first ?? node.name, default: 0] += ms
                }
            }
            let start = DispatchTime.now()
            let results = try session.run(feeds, outputs: names)
            var times = [Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6]
            for _ in 0..<repeatCount {
                let t0 = DispatchTime.now()
                _ = try session.run(feeds, outputs: names)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6)
            }
            if profile {
                let total = perOp.values.reduce(0, +)
                let runs = Double(repeatCount + 1)
                for (op, ms) in perOp.sorted(by: { $0.value > $1.value }) {
                    FileHandle.standardError.write(Data(String(format: "%-22@ %9.3f ms/run  %5.1f%%\n", op, ms / runs, 100 * ms / max(total, 1e-9)).utf8))
                }
                FileHandle.standardError.write(Data("slowest layers:\n".utf8))
                for (name, ms) in perNode.sorted(by: { $0.value > $1.value }).prefix(ProcessInfo.processInfo.environment["CNNVIZ_PROFILE_LAYERS"].flatMap { Int($0) } ?? 10) {
                    FileHandle.standardError.write(Data(String(format: "  %-40@ %9.3f ms/run\n", name, ms / runs).utf8))
                }
            }
            let directory = URL(fileURLWithPath: out)
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw CNNVizError(.writeFailed, "cannot create the output directory", location: directory.path, cause: error)
            }
            var written = [String: String]()
            for name in names {
                let url = directory.appendingPathComponent(fileStem(for: name) + ".npy")
                let tensor = results[name]!
                try NumpyFile.write(keepDtype || !tensor.isFloatingPoint ? tensor : tensor.relabelled(as: .float32), to: url)
                written[name] = url.path
            }
            let timed = repeatCount > 0 ? Array(times.dropFirst()).sorted() : []
            let manifest = Manifest(outputs: written, timing: timed.isEmpty ? nil : ["forward_ms": timed[timed.count / 2]])
            if json {
                try printJSON(manifest)
            } else {
                for name in names { print("\(name) \(results[name]!.shape) → \(written[name]!)") }
                if let timing = manifest.timing { print(String(format: "forward: %.3f ms (median of %d)", timing["forward_ms"]!, repeatCount)) }
            }
        }
    }
}
