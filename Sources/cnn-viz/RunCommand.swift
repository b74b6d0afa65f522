import ArgumentParser
import CNNVizRuntime
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on a .npy tensor and write the requested tensors as .npy files.",
        discussion: HelpExamples.discussion("run")
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

    @Option(name: .long, help: ArgumentHelp(
        "Back-propagate from OUTPUT:INDEX, the class INDEX along axis 1 of OUTPUT (or one comma-separated index per batch item).",
        discussion: "When OUTPUT comes from a Softmax, its input (the pre-softmax logit) is seeded instead, and a note says so; --post-softmax keeps the probability."))
    var backward: String?

    @Option(name: .long, help: "A tensor, node or parameter to write ∂L/∂NAME for; repeatable. 'input' means the model input.")
    var wrt: [String] = []

    @Flag(name: .long, help: "Guided backpropagation: ReLUs pass g·[x > 0]·[g > 0].")
    var guided = false

    @Flag(name: .long, help: "Deconvnet: ReLUs pass g·[g > 0].")
    var deconvnet = false

    @Flag(name: .long, help: "With --backward on a Softmax output, differentiate the probability instead of the pre-softmax logit.")
    var postSoftmax = false

    func validate() throws {
        guard repeatCount >= 0 else { throw ValidationError("--repeat must be 0 or more, found \(repeatCount)") }
        guard tensor != nil || !feed.isEmpty else { throw ValidationError("give the input with --tensor X.npy or --feed NAME=X.npy") }
        guard backward != nil || (wrt.isEmpty && !guided && !deconvnet && !postSoftmax) else {
            throw ValidationError("--wrt, --guided, --deconvnet and --post-softmax need --backward OUTPUT:INDEX")
        }
        guard backward == nil || !wrt.isEmpty else { throw ValidationError("--backward needs at least one --wrt NAME") }
        guard !(guided && deconvnet) else { throw ValidationError("--guided and --deconvnet exclude each other") }
    }

    struct Manifest: Encodable {
        var outputs: [String: String]
        var gradients: [String: String]?
        var seed: Seed?
        var timing: [String: Double]?
        /// With --repeat: what ran the kernels (oneDNN's version and ISA, threads).
        var engine: CNNVizEngine.Description?
    }

    struct Seed: Encodable {
        var tensor: String
        var classes: [Int]
        var note: String?
    }

    /// OUTPUT:INDEX[,INDEX…] split at the last colon, so that names may contain colons.
    static func parseBackward(_ text: String) throws -> (output: String, classes: [Int]) {
        guard let colon = text.lastIndex(of: ":") else {
            throw CNNVizError(.invalidArgument, "--backward expects OUTPUT:INDEX, found '\(text)'")
        }
        let output = String(text[..<colon])
        let classes = text[text.index(after: colon)...].split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !output.isEmpty, !classes.isEmpty, classes.allSatisfy({ $0 != nil }) else {
            throw CNNVizError(.invalidArgument, "--backward expects OUTPUT:INDEX with integer indices, found '\(text)'")
        }
        return (output, classes.map { $0! })
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
                let values = try NumpyFile.read(contentsOf: URL(fileURLWithPath: tensor))
                try PreprocessOptions.checkTensor(values, file: tensor, against: session.graph.inputs[0], of: session.model.source, channelsLast: false, numeric: true)
                feeds[session.graph.inputs[0].name] = values
            }
            let inputNames = session.graph.inputs.map(\.name)
            for entry in feed {
                guard entry.contains("=") else { throw CNNVizError(.invalidArgument, "--feed expects NAME=PATH.npy, found '\(entry)'") }
                let name = String(entry.prefix { $0 != "=" })
                guard inputNames.contains(name) else {
                    throw CNNVizError(.invalidArgument, "--feed names '\(name)', which is not an input of the model; its inputs are \(session.graph.inputs.map { "'\($0.name)' \($0.shapeDescription)" }.joined(separator: ", "))")
                }
            }
            for entry in feed {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw CNNVizError(.invalidArgument, "--feed expects NAME=PATH.npy, found '\(entry)'")
                }
                feeds[String(entry[..<equals])] = try NumpyFile.read(contentsOf: URL(fileURLWithPath: String(entry[entry.index(after: equals)...])))
            }
            let names = output.isEmpty ? session.graph.outputs.map(\.name) : output
            let report = profile ? Profile(session) : nil
            if let backward {
                try runBackward(session, feeds: feeds, outputs: names, backward: backward)
                return
            }
            let start = DispatchTime.now()
            let results = try session.run(feeds, outputs: names)
            var times = [Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6]
            for _ in 0..<repeatCount {
                let t0 = DispatchTime.now()
                _ = try session.run(feeds, outputs: names)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6)
            }
            report?.print(runs: repeatCount + 1)
            let written = try write(results, names: names)
            let manifest = Manifest(outputs: written, timing: median(times).map { ["forward_ms": $0] },
                                    engine: repeatCount > 0 ? CNNVizEngine.description : nil)
            if json {
                try printJSON(manifest)
            } else {
                for name in names { print("\(name) \(results[name]!.shape) → \(written[name]!)") }
                if let timing = manifest.timing { print(String(format: "forward: %.3f ms (median of %d)", timing["forward_ms"]!, repeatCount)) }
            }
        }
    }

    /// The median of the timed runs after the first (warm-up) one; nil without --repeat.
    func median(_ times: [Double]) -> Double? {
        let timed = repeatCount > 0 ? Array(times.dropFirst()).sorted() : []
        return timed.isEmpty ? nil : timed[timed.count / 2]
    }

    /// Writes each tensor as `<stem>.npy` (prefixed) into --out; returns name → path.
    func write(_ tensors: [String: Tensor], names: [String], prefix: String = "") throws -> [String: String] {
        let directory = URL(fileURLWithPath: out)
        try createOutputDirectory(directory)
        var written = [String: String]()
        for name in names {
            let url = directory.appendingPathComponent(prefix + fileStem(for: name) + ".npy")
            let tensor = tensors[name]!
            try NumpyFile.write(keepDtype || !tensor.isFloatingPoint ? tensor : tensor.relabelled(as: .float32), to: url)
            written[name] = url.path
        }
        return written
    }

    func runBackward(_ session: Session, feeds: [String: Tensor], outputs names: [String], backward: String) throws {
        var (output, classes) = try RunCommand.parseBackward(backward)
        var note: String? = nil
        if !postSoftmax, let logits = session.logitsBeforeSoftmax(output) {
            note = "'\(output)' comes out of a Softmax: the gradient is taken of its input '\(logits)', the pre-softmax logit (--post-softmax differentiates the probability)"
            FileHandle.standardError.write(Data("note: \(note!)\n".utf8))
            output = logits
        }
        guard session.graph.inputs.count == 1 || !wrt.contains("input") else {
            throw CNNVizError(.invalidArgument, "--wrt input is ambiguous: the model has inputs \(session.graph.inputs.map(\.name).joined(separator: ", "))")
        }
        let wrtNames = wrt.map { $0 == "input" && session.graph.tensorName(forLayer: "input") == nil ? session.graph.inputs[0].name : $0 }
        let mode: ReluGradientMode = guided ? .guided : (deconvnet ? .deconvnet : .standard)
        let seed = GradientSeed.logit(output, classes: classes)
        let report = profile ? Profile(session) : nil
        var forward = [Double](), reverse = [Double]()
        var result: GradientResult! = nil
        for _ in 0...repeatCount {
            result = try session.gradients(feeds, seed: seed, wrt: wrtNames, outputs: names, rules: mode.rules)
            forward.append(result.forwardMilliseconds)
            reverse.append(result.backwardMilliseconds)
        }
        report?.print(runs: repeatCount + 1)
        var gradients = [String: Tensor]()
        for (asked, name) in zip(wrt, wrtNames) { gradients[asked] = result.gradients[name] }
        let manifest = Manifest(
            outputs: try write(result.outputs, names: names),
            gradients: try write(gradients, names: wrt, prefix: "grad_"),
            seed: Seed(tensor: result.seedTensor, classes: classes, note: note),
            timing: median(forward).map { ["forward_ms": $0, "backward_ms": median(reverse)!] },
            engine: repeatCount > 0 ? CNNVizEngine.description : nil)
        if json {
            try printJSON(manifest)
        } else {
            for name in wrt { print("∂L/∂\(name) \(gradients[name]!.shape) → \(manifest.gradients![name]!)") }
            if let timing = manifest.timing {
                print(String(format: "forward: %.3f ms, backward: %.3f ms (medians of %d)", timing["forward_ms"]!, timing["backward_ms"]!, repeatCount))
            }
        }
    }
}

/// `--profile`: time per op type (backward rules as "Op/backward") and the slowest layers, on stderr.
final class Profile {
    var perOp = [String: Double]()
    var perNode = [String: Double]()

    init(_ session: Session) {
        session.profiler = { [unowned self] node, ms in
            perOp[node.opType, default: 0] += ms
            perNode[(node.outputs.first ?? node.name) + (node.opType.hasSuffix("/backward") ? " (backward)" : ""), default: 0] += ms
        }
    }

    func print(runs: Int) {
        let total = perOp.values.reduce(0, +)
        let runs = Double(runs)
        let ops = perOp.sorted { $0.value > $1.value }.map { op, ms in
            [op, String(format: "%.3f", ms / runs), String(format: "%.1f%%", 100 * ms / max(total, 1e-9))]
        }
        let count = ProcessInfo.processInfo.environment["CNNVIZ_PROFILE_LAYERS"].flatMap { Int($0) } ?? 10
        let layers = perNode.sorted { $0.value > $1.value }.prefix(count).map { name, ms in [name, String(format: "%.3f", ms / runs)] }
        let lines = TextTable.lines(header: ["op", "ms/run", "share"], rows: ops) + ["slowest layers:"]
            + TextTable.lines(header: ["layer", "ms/run"], rows: layers, indent: "  ")
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
