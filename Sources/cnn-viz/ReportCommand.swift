import ArgumentParser
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Everything about one or more images in one self-contained HTML report each, plus an index page.",
        discussion: HelpExamples.discussion("report", "The attribution section explains the top two classes (of the --top charted), or the target that the target options give (--class, --output, --mask, --box, --index, …, as in gradcam).")
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions

    @OptionGroup var dataset: DatasetOptions

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

    @OptionGroup var targets: TargetOptions

    @Option(name: .long, help: "The layer whose feature maps to show. Default: the last 4-D layer before the head.")
    var layer: String?

    @Option(name: .long, help: "Where files go: one directory per image (its path relative to the images' common folder, for several) and index.html. Default: reports.")
    var out: String = "reports"

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws {
        guard !dataset.isEmpty else { throw ValidationError("give at least one image, folder or --manifest") }
    }

    struct Result: Encodable {
        var image: String
        var report: String
        var layer: String
        var top: [ImageReport.Prediction]
    }

    struct Manifest: Encodable {
        /// The model's file, or "<embedded shapes model>".
        var model: String
        var results: [Result]
        var failures: [DatasetRecord.Failure]
        var index: String?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession(forGradients: true)
            let names = try classNames(file: labels, session: session)
            let preset = try preprocessing.preprocessing(for: session)
            let root = URL(fileURLWithPath: out)
            let chartCount = targets.top ?? 5
            let choice = try targets.choice(session: session, preprocessing: preprocessing, labels: labels)
            var results = [Result]()
            let (items, isDataset, _) = try dataset.items()
            let failures = try dataset.forEach(items, isDataset: isDataset) { _, item in
                let path = item.path
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let directory = root.appendingPathComponent(isDataset ? item.key : fileStem(for: stem))
                var report = ImageReport(session: session, preprocessing: preset, labels: names, top: chartCount, layer: layer)
                if targets.isGiven { report.choice = choice }
                let (document, result) = try report.build(image: path)
                try createOutputDirectory(directory)   // after the build: a failed image leaves no folder
                let url = directory.appendingPathComponent("report.html")
                try document.write(to: url)
                results.append(Result(image: path, report: url.path, layer: result.layer, top: result.top))
            }
            var index: URL? = nil
            if results.count > 1 {
                let page = ReportIndexPage.document(results.map { result in
                    (result.image, HTMLDocument.relativeLink(String(result.report.dropFirst(root.path.count + 1))), result.top.first)
                })
                index = root.appendingPathComponent("index.html")
                try page.write(to: index!)
            }
            if json {
                try printJSON(Manifest(model: session.model.source, results: results, failures: failures, index: index?.path))
            } else {
                for result in results { print("\(result.image) → \(result.report)") }
                if let index { print("index → \(index.path)") }
            }
            if !failures.isEmpty {
                FileHandle.standardError.write(Data("report: \(results.count) done, \(failures.count) failed of \(items.count) inputs\n".utf8))
                throw ExitCode(DatasetOptions.someInputsFailed)
            }
        }
    }
}
