import ArgumentParser
import CNNVizImaging
import CNNVizRuntime
import Foundation

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "List every layer: name, op, output shape, parameters, MACs and receptive field; memory totals.",
        discussion: HelpExamples.discussion("summary", """
            RF is the receptive field in input pixels, jump the cumulative stride and start the centre of unit 0's \
            field (pixel i centred at i): unit u sees start + u·jump ± (RF − 1)/2, clipped to the image. One number \
            when H and W agree, H×W otherwise; "global" after global pooling, ≈ when approximate, - when non-spatial.
            """)
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp(
        "The shape of an input with dynamic dims, as 1x3x640x640 (the only or first input) or NAME=1x3x640x640; repeat for several inputs.",
        discussion: "Without it a dynamic batch dim is taken as 1, and any other dynamic dim is an error that names it."))
    var inputShape: [String] = []

    @Option(name: .long, help: "A .npy tensor whose shape is the input's (for a model with one input).")
    var tensor: String?

    @Argument(help: "An image whose height and width fill the input's dynamic spatial dims (batch 1).")
    var image: String?

    @Flag(name: .long, help: "Print the layers and totals as JSON on stdout.")
    var json = false

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            var shapes = try InputShapeOption.parse(inputShape, inputs: session.graph.inputs.map(\.name))
            if let tensor, let first = session.graph.inputs.first {
                let shape = try NumpyFile.read(contentsOf: URL(fileURLWithPath: tensor)).shape
                guard !shape.isEmpty else { throw CNNVizError(.shapeMismatch, "--tensor \(tensor) is a scalar; its shape cannot be an input shape", location: tensor) }
                shapes[first.name] = shape
            }
            if let image {
                let picture = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: image))
                guard let first = session.graph.inputs.first, let declared = first.shape, declared.count == 4 else {
                    throw CNNVizError(.invalidArgument, "an image sets the H and W of a 4-D image input; this model's first input is \(session.graph.inputs.first.map { "'\($0.name)' \($0.shapeDescription)" } ?? "missing")")
                }
                let nhwc = session.model.inputLayout == .nhwc
                let (h, w, c) = nhwc ? (1, 2, 3) : (2, 3, 1)
                var shape = declared.map { $0 ?? 1 }
                (shape[0], shape[h], shape[w]) = (1, declared[h] ?? picture.height, declared[w] ?? picture.width)
                shape[c] = declared[c] ?? 3
                shapes[first.name] = shape
            }
            let summary = try ModelSummary.summary(for: session, inputShapes: shapes)
            if json {
                try printJSON(summary)
                return
            }
            print(SummaryTable(summary: summary).text)
            print("outputs: " + modelOutputs(session))
        }
    }
}

/// `--input-shape` values: "1x3x640x640" for the first input, or "NAME=1x3x640x640".
enum InputShapeOption {
    static func parse(_ values: [String], inputs: [String]) throws -> [String: [Int]] {
        var shapes = [String: [Int]]()
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, dims) = parts.count == 2 ? (parts[0], parts[1]) : (inputs.first ?? "", parts.first ?? "")
            let shape = dims.lowercased().split(separator: "x").map { Int($0) }
            guard !shape.isEmpty, shape.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw CNNVizError(.invalidArgument, "--input-shape '\(value)' is not a shape such as 1x3x640x640 or NAME=1x3x640x640")
            }
            shapes[name] = shape.map { $0! }
        }
        return shapes
    }
}
