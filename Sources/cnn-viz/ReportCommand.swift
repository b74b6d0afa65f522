import ArgumentParser
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Everything about one or more images in one self-contained HTML report each, plus an index page."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions

    @Argument(help: "PNG or JPEG images.")
    var images: [String]

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

    @Option(name: .long, help: "How many classes to chart.")
    var top: Int = 5

    @Option(name: .long, help: "The layer whose feature maps to show. Default: the last 4-D layer before the head.")
    var layer: String?

    @Option(name: .long, help: "Where files go: one directory per image and index.html. Default: reports.")
    var out: String = "reports"

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1, found \(top)") }
    }

    struct Result: Encodable {
        var image: String
        var report: String
        var layer: String
        var top: [ImageReport.Prediction]
    }

    struct Manifest: Encodable {
        var results: [Result]
        var index: String?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession()
            let names = try classNames(file: labels, session: session)
            let preset = try preprocessing.preprocessing(for: session)
            let root = URL(fileURLWithPath: out)
            var results = [Result]()
            for path in images {
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let directory = root.appendingPathComponent(fileStem(for: stem))
                try createOutputDirectory(directory)
                let report = ImageReport(session: session, preprocessing: preset, labels: names, top: top, layer: layer)
                let (document, result) = try report.build(image: path)
                let url = directory.appendingPathComponent("report.html")
                try document.write(to: url)
                results.append(Result(image: path, report: url.path, layer: result.layer, top: result.top))
            }
            var index: URL? = nil
            if results.count > 1 {
                var page = HTMLDocument(title: "cnn-viz reports")
                let rows = results.map { result in
                    let link = URL(fileURLWithPath: result.report).deletingLastPathComponent().lastPathComponent + "/report.html"
                    return "<li><a href=\"\(HTMLDocument.escape(link))\">\(HTMLDocument.escape(result.image))</a>: "
                        + HTMLDocument.escape(result.top.first.map { "\($0.label) (\(String(format: "%.3f", $0.score)))" } ?? "") + "</li>"
                }
                page.addSection("Images", body: "<ul>\(rows.joined())</ul>")
                index = root.appendingPathComponent("index.html")
                try page.write(to: index!)
            }
            if json {
                try printJSON(Manifest(results: results, index: index?.path))
            } else {
                for result in results { print("\(result.image) → \(result.report)") }
                if let index { print("index → \(index.path)") }
            }
        }
    }
}
