import Foundation
import CNNVizRuntime

/// Class names and preprocessing carried in an ONNX model's `metadata_props`, so that a model
/// can be used without `--labels` or `--preprocess`.
///
/// Keys (any model may carry them; cnn-viz writes them for the models it trains):
/// - `cnn-viz.labels`: the class names, one per line, in class-index order;
/// - `cnn-viz.preprocess`: a preset name (imagenet, caffe, mnist, none);
/// - `cnn-viz.preprocess.size`, `.crop`, `.mean`, `.std`, `.scale`: overrides, written as the
///   command-line options take them ("64x64", "0.5", "1/255");
/// - `cnn-viz.scores`: "sigmoid" when each output is an independent (multi-label) class score,
///   so that probabilities are σ(x) per class rather than a softmax over classes.
///
/// Pitfall: the command line still wins. An explicit `--preprocess` replaces the declared
/// preset and its overrides; `--mean` and the like apply on top of whichever preset is used.
public enum ModelMetadata {
    public static let labelsKey = "cnn-viz.labels"
    public static let preprocessKey = "cnn-viz.preprocess"
    public static let scoresKey = "cnn-viz.scores"

    /// The entries that describe `labels` and `preprocessing` (a preset with overrides).
    public static func entries(labels: [String], preprocessing: Preprocessing) -> [String: String] {
        func list(_ values: [Float]) -> String { values.map { "\($0)" }.joined(separator: ",") }
        var entries = [labelsKey: labels.joined(separator: "\n"), preprocessKey: "none",
                       "\(preprocessKey).mean": list(preprocessing.mean), "\(preprocessKey).std": list(preprocessing.std),
                       "\(preprocessKey).scale": "\(preprocessing.scale)"]
        switch preprocessing.resize {
        case .none: break
        case .shortSide(let side): entries["\(preprocessKey).size"] = "\(side)"
        case .exact(let size): entries["\(preprocessKey).size"] = "\(size.width)x\(size.height)"
        }
        if let crop = preprocessing.crop { entries["\(preprocessKey).crop"] = "\(crop.width)x\(crop.height)" }
        return entries
    }

    /// The class names the model declares, or nil.
    public static func labels(of model: Model) -> [String]? {
        guard let text = model.metadata[labelsKey], !text.isEmpty else { return nil }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The preprocessing the model declares, or nil when it declares none. A declared value
    /// that does not parse is an error naming the key and the model.
    public static func preprocessing(of model: Model) throws -> Preprocessing? {
        guard let preset = model.metadata[preprocessKey] else { return nil }
        let value = { (key: String) in model.metadata["\(preprocessKey).\(key)"] }
        do {
            var declared = try Preprocessing.preset(named: preset)
                .overridden(size: value("size"), crop: value("crop"), mean: value("mean"), std: value("std"), scale: value("scale"))
            // Named for what it is in messages and captions, not after the preset it edits.
            declared.name = "the model's metadata"
            return declared
        } catch let error as CNNVizError {
            throw CNNVizError(.invalidModel, "the model's metadata declares a preprocessing cnn-viz cannot use: \(error.message)",
                              location: model.source, cause: error)
        }
    }
}

extension Preprocessing {
    /// The preprocessing a model gets when the user names none: what its metadata declares
    /// (`cnn-viz.preprocess`), else a guess from the input's shape: `mnist` for one channel,
    /// `cifar` for a 32×32 RGB input, `inception` for 299×299, `imagenet` for the rest.
    /// The command line's `--preprocess` and overrides start from here.
    /// Pitfall: a guess cannot tell Caffe's BGR 0–255 from torchvision's RGB 0–1; the command
    /// line says which preset it assumed.
    public static func modelDefault(for model: Model) throws -> Preprocessing {
        if let declared = try ModelMetadata.preprocessing(of: model) { return declared }
        let shape = model.graph.inputs.first?.shape ?? []
        let channels = shape.count > 1 ? shape[1] ?? 3 : 3
        let side = shape.count == 4 && shape[2] == shape[3] ? shape[2] : nil
        switch (channels, side) {
        case (1, _): return .mnist
        case (3, 32?): return .cifar
        case (3, 299?): return .inception
        default: return .imagenet
        }
    }
}

extension ClassLabels {
    /// The class names from a labels file, else those the model declares in its metadata,
    /// else nil (as `--labels` resolves).
    public static func resolve(file: URL?, model: Model) throws -> [String]? {
        if let file { return try load(contentsOf: file) }
        return ModelMetadata.labels(of: model)
    }
}
