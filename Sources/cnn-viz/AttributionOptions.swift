import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

/// The inputs, targets and outputs that `gradcam` and `saliency` share.
struct AttributionOptions: ParsableArguments {
    @OptionGroup var dataset: DatasetOptions

    @Option(name: .long, help: "Use this NCHW float32 .npy as the input instead of images.")
    var tensor: String?

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

    @Option(name: .long, help: "The picture a --tensor input was made from, drawn under its maps (resized to the tensor's H×W).")
    var displayImage: String?

    @Option(name: .long, help: "Picture formats, comma-separated: png, pdf, svg.")
    var format: String = "png"

    @Option(name: .long, help: "Where files go. One image: DIR itself (default reports/<image stem>/). Several: DIR/<path relative to their common folder, without extension>/ (default DIR: reports), with records.jsonl.")
    var out: String?

    @Option(name: .long, help: "Where maps are drawn: original (over the photo at its own size, the part the model did not see washed out) or model (the model's resized, cropped view).")
    var view: MapView = .original

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    @Option(name: .customLong("repeat"), help: "Compute each map N more times and report the median time (for benchmarks).")
    var repeatCount: Int = 0

    @Option(name: .long, help: "Memory for one batch's activations, e.g. 512M or 2G; the methods that run many copies of an image (integrated gradients, noise tunnels, occlusion, ScoreCAM, AblationCAM) take the largest batch up to --batch-size that fits. Default: 256M, or a quarter of RAM if less.")
    var memoryLimit: String?

    /// --memory-limit in bytes (the library's default without it).
    var memoryLimitBytes: Int {
        get throws { try memoryLimit.map { try AttributionOptions.bytes($0, option: "--memory-limit") } ?? MemoryBudget.defaultBytes }
    }

    /// "512M", "2G", "1.5g", "300000000": a size in bytes (K, M, G, T are powers of 1024).
    static func bytes(_ text: String, option: String) throws -> Int {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        let unit = trimmed.last.flatMap { units[$0] }
        let number = Double(unit == nil ? trimmed : String(trimmed.dropLast()))
        guard let number, number.isFinite, number >= 1, number * (unit ?? 1) <= 1_125_899_906_842_624 else {
            throw ValidationError("\(option) expects a size such as 512M or 2G, found '\(text)'")
        }
        return Int(number * (unit ?? 1))
    }

    func validate() throws {
        _ = try memoryLimitBytes
        guard dataset.isEmpty != (tensor == nil) else { throw ValidationError("give images (or --manifest), or --tensor X.npy") }
        guard displayImage == nil || tensor != nil else { throw ValidationError("--display-image goes with --tensor") }
        guard repeatCount >= 0 else { throw ValidationError("--repeat must be 0 or more") }
        _ = try OutputFormat.list(format)
    }

    /// The run's inputs: the dataset's images (`DatasetOptions.items`), or the tensor file
    /// alone; and whether the run is a dataset (outputs go to DIR/<key>/) rather than one
    /// input (outputs go to --out itself).
    func inputs() throws -> (items: [(position: Int, item: DatasetItem)], isDataset: Bool, shard: DatasetShard) {
        if let tensor { return ([(0, DatasetItem(path: tensor, key: fileStem(for: URL(fileURLWithPath: tensor).deletingPathExtension().lastPathComponent)))], false, .whole) }
        return try dataset.items(readsEnvironment: true)
    }

    /// The output directory for one input, created: `--out` itself for a single input; for a
    /// dataset, DIR/<key>/ under `--out` (default reports/), mirroring the input tree, so that
    /// two inputs never share an output folder.
    func directory(for item: DatasetItem, isDataset: Bool) throws -> URL {
        let directory = directoryURL(for: item, isDataset: isDataset)
        try createOutputDirectory(directory)
        return directory
    }

    /// Where `directory(for:isDataset:)` puts an input's files, without creating it.
    func directoryURL(for item: DatasetItem, isDataset: Bool) -> URL {
        switch (out, isDataset) {
        case (let out?, false): return URL(fileURLWithPath: out)
        default: return URL(fileURLWithPath: out ?? "reports").appendingPathComponent(item.key)
        }
    }

    /// One result as the JSON contract lists it.
    struct Result: Codable {
        var image: String
        /// The batch item, for a --tensor input with more than one.
        var item: Int?
        var `class`: Int?
        var label: String
        var target: String
        var tensor: String
        var score: Float
        /// What the score is: "logit", "probability" or "score".
        var scoreName: String
        var method: String
        var layer: String?
        var raw: String
        /// The plane the picture colours, at the model's resolution.
        var shown: String
        /// The same plane mapped back onto the photo (--view original, image inputs).
        var shownOriginal: String?
        var overlay: [String]
        var report: String
        var warnings: [String]
        /// The images per pass that the memory limit allowed, for methods that batch copies.
        var batchSize: Int?
        /// What the class is to the image in a dataset run: label, predicted, or label,predicted.
        var role: TargetChoice.ClassRole?
        /// Against the manifest's box or mask (`AttributionScores`, on the shown plane): whether
        /// the map's maximum lies inside it, and the share of its positive energy inside it.
        var pointingHit: Bool?
        var energyInside: Double?
        /// The overlay's thumbnail, for the index page (dataset runs).
        var thumbnail: String?
    }

    struct Manifest: Encodable {
        /// The model's file, or "<embedded shapes model>".
        var model: String
        var results: [Result]
        /// The inputs that failed, with the reason; the run went on without them.
        var failures: [DatasetRecord.Failure]
        /// Inputs skipped because an earlier run completed them.
        var skipped: Int
        /// With --repeat: the median milliseconds per map, after a first untimed run.
        var timing: [String: Double]?
    }

    /// Runs `compute` once for the result and `repeatCount` more times for the timing, each
    /// after `reset` (which drops what the first run left for the next, e.g. a kept forward pass).
    func timed<T>(_ times: inout [Double], reset: () -> Void = {}, _ compute: () throws -> T) rethrows -> T {
        let result = try compute()
        for _ in 0..<repeatCount {
            reset()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try compute()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return result
    }

    /// A drawn overlay with its caption and colour bar: its files and its HTML figure. Images
    /// smaller than 224 pixels are enlarged by a whole factor (nearest-neighbour), so that a
    /// 64×64 scene is drawn at 192×192.
    func figure(_ image: RGBAImage, caption: Caption, colorBar: ColorBar?, base: URL) throws -> (files: [String], figure: String) {
        let figure = OverlayFigure(image: image, caption: caption, colorBar: colorBar,
                                   scale: max(1, 224 / max(image.width, image.height, 1)))
        let png = try figure.picture.encoded(as: .png)   // once, for the file and the page
        let files = try figure.picture.write(to: base, formats: try OutputFormat.list(format), encoded: [.png: png]).map(\.path)
        let title = [caption.method, caption.label].compactMap { $0 }.joined(separator: ": ")
        return (files, HTMLDocument.figure(png: png, caption: title))
    }

    /// Prints the manifest, or one line per result.
    func report(_ results: [Result], failures: [DatasetRecord.Failure], skipped: Int, model: String, times: [Double]) throws {
        if json {
            try printJSON(Manifest(model: model, results: results, failures: failures, skipped: skipped, timing: times.isEmpty ? nil : ["attribution_ms": times.sorted()[times.count / 2]]))
        } else {
            for result in results {
                let label = result.label == result.target ? "" : " \(result.label)"
                print("\(result.image)\(result.item.map { "[\($0)]" } ?? ""): \(result.method) for \(result.target)\(label), score \(result.score) of '\(result.tensor)'"
                      + (result.layer.map { " at \($0)" } ?? "") + (result.batchSize.map { ", batches of \($0)" } ?? "")
                      + " → " + ([result.raw] + result.overlay).joined(separator: ", "))
            }
            for report in Set(results.map(\.report)).sorted() { print("report → \(report)") }
        }
    }
}

/// Where attribution maps are drawn.
enum MapView: String, ExpressibleByArgument, CaseIterable {
    case original, model
}

/// Limits on attribution options, so that a typo cannot ask for gigabytes.
enum AttributionLimits {
    /// Inputs per batch: 1024 copies of a 224×224 RGB input are 600 MiB before any activation.
    static let maximumBatch = 1024
}
