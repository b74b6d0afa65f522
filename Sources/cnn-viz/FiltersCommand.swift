import ArgumentParser
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "Draw conv filters as grids: first-layer RGB filters as colour tiles, deeper ones per (out, in) pair or averaged.",
        discussion: HelpExamples.discussion("filters", """
        With several --model (checkpoints of one network), each layer is drawn once per model, \
        side by side in one picture (filter evolution), with each model's low-frequency share: the \
        part of the filters' spectral energy in the constant and first harmonics, about \
        9/(k·k) for random k×k filters and near 1 for smooth blobs and edges.
        """)
    )

    @Option(name: .long, parsing: .singleValue,
            help: "An ONNX model; repeat it to draw the same layers across training checkpoints, one row per model. Default: the embedded shapes model.")
    var model: [String] = []

    @Option(name: .long, help: "A Conv layer (node name, output tensor or weight name); repeatable. Default: every Conv.")
    var layer: [String] = []

    @Flag(name: .long, help: "Deeper layers: one tile per output filter, the mean over its input channels.")
    var mean = false

    @Flag(name: .long, help: "The first layer reads BGR input (Caffe models such as SqueezeNet): swap to RGB for the colour tiles.")
    var bgr = false

    @Option(name: .long, help: "Picture formats, comma-separated: png, pdf, svg.")
    var format: String = "png"

    @Option(name: .long, help: "Where files go. Default: reports/<model stem>/filters.")
    var out: String?

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws { _ = try OutputFormat.list(format) }

    struct Manifest: Encodable {
        var filters: [FilterReport.Entry]
        var report: String
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let sessions = try model.isEmpty ? [ModelOptions(model: nil).loadSession()] : model.map { try ModelOptions(model: $0).loadSession() }
            var filters = FilterReport(sessions: sessions)
            filters.layers = layer
            filters.formats = try OutputFormat.list(format)
            if mean { filters.grid.mode = .meanOverInputs }
            if bgr { filters.grid.inputChannelOrder = .bgr }
            try filters.validate()
            let stem = URL(fileURLWithPath: sessions[0].model.source).deletingPathExtension().lastPathComponent
            let directory = URL(fileURLWithPath: out ?? "reports/\(stem)/filters")
            try createOutputDirectory(directory)
            let (entries, report) = try filters.write(to: directory)
            if json {
                try printJSON(Manifest(filters: entries, report: report.path))
            } else {
                for entry in entries {
                    let share = entry.lowFrequencyShare.map { String(format: " low-frequency share %.3f", $0) } ?? ""
                    print("\(entry.model) \(entry.layer) \(entry.shape)\(share) → \(entry.files.joined(separator: ", "))")
                }
                print("report → \(report.path)")
            }
        }
    }
}
