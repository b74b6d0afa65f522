import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

/// One image's explanation from a method, ready to write.
struct Explanation {
    /// What the .npy holds, and what the picture is drawn from (through the run's `MapStyle`).
    var raw: Tensor
    var score: Float
    var layer: String?
    /// The images per pass that the memory budget chose, for methods that batch copies.
    var batchSize: Int? = nil
}

/// The loop that `gradcam` and `saliency` share: inputs, targets per image, files, pictures,
/// the HTML page per input and the manifest. The command supplies the method.
struct AttributionRun {
    var session: Session
    var options: AttributionOptions
    var preprocessing: PreprocessOptions
    var targets: TargetOptions
    /// The method's name, e.g. "gradcam++" or "integrated-gradients_smoothgrad"; files use
    /// `MethodFileName` of it ("gradcam-plus-plus").
    var name: String
    /// The method and the options that changed its map, for captions: "gradcam + aug-smooth".
    var captionMethod: String
    var sectionTitle: String
    var style: MapStyle

    /// Runs `compute` on each input batch for each target list and writes everything. A target
    /// that does not fit its tensor gets the model's outputs added to its error.
    func run(_ compute: (_ input: Tensor, _ targets: [any AttributionTarget]) throws -> (explanations: [Explanation], warnings: [String])) throws {
        do {
            try runAll(compute)
        } catch var error as CNNVizError where error.code == .invalidArgument && error.tensor != nil {
            error.message += " The model's outputs: \(modelOutputs(session))."
            throw error
        }
    }

    /// Every input of the run (a dataset's images, this shard's; or the tensor), each explained
    /// on its own: an input that fails for a reason of its own (its file: missing, corrupt, the
    /// wrong size) is recorded and the run goes on, unless `--fail-fast`; the exit status is then
    /// 4. Inputs an earlier run completed are skipped (`--force` redoes them).
    func runAll(_ compute: (_ input: Tensor, _ targets: [any AttributionTarget]) throws -> (explanations: [Explanation], warnings: [String])) throws {
        let (items, isDataset, shard) = try options.inputs()
        let context = try Context(run: self, totalImages: items.count)
        var results = [AttributionOptions.Result](), times = [Double](), offset = 0
        var records = [DatasetRecord](), failures = [DatasetRecord.Failure](), skipped = 0
        for item in items {
            let directory = try options.directory(for: item, isDataset: isDataset)
            defer { offset += context.tensorInput.map { $0.shape[0] } ?? 1 }
            if isDataset, !targets.force, let done = DatasetRecord.completed(in: directory) {
                results += done.results ?? []
                records.append(done)
                skipped += 1
                continue
            }
            if isDataset { AttributionRun.removeStaleTemporaryFiles(in: directory) }
            let mark = AtomicFile.journalMark()
            do {
                let explained = try explain(item, in: directory, offset: offset, context: context, times: &times, compute)
                results += explained
                let record = DatasetRecord(key: item.key, image: item.path, status: "ok", results: explained)
                if isDataset { try record.write(to: directory) }
                records.append(record)
            } catch let error as CNNVizError where isDataset && !options.failFast && Self.isAbout(item, error) {
                AtomicFile.removeWrittenFiles(since: mark)
                if (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.isEmpty ?? false {
                    try? FileManager.default.removeItem(at: directory)
                }
                FileHandle.standardError.write(Data("error: \(error) (recorded; going on)\n".utf8))
                failures.append(.init(image: item.path, key: item.key, reason: "\(error)"))
                records.append(DatasetRecord(key: item.key, image: item.path, status: "failed", reason: "\(error)"))
            }
        }
        if isDataset {
            let root = URL(fileURLWithPath: options.out ?? "reports")
            let linesFile = DatasetRecord.linesFile(in: root, shard: shard)
            try DatasetRecord.writeLines(records, to: linesFile)
            FileHandle.standardError.write(Data(("\(name): \(items.count - failures.count - skipped) done, \(failures.count) failed, "
                                                 + "\(skipped) skipped (complete from an earlier run) of \(items.count) inputs"
                                                 + (shard.count > 1 ? " in shard \(shard)" : "") + "; records → \(linesFile.path)\n").utf8))
        }
        try options.report(results, failures: failures, skipped: skipped, model: session.model.source, times: times)
        if !failures.isEmpty { throw ExitCode(AttributionRun.someInputsFailed) }
    }

    /// Removes the hidden `.NAME.UUID.tmp` files that `AtomicFile` leaves only when a process is
    /// killed mid-write, so that a resumed run leaves whole files or none.
    static func removeStaleTemporaryFiles(in directory: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Whether an error is the input's own (located at its file), not the model's or the options'.
    static func isAbout(_ item: DatasetItem, _ error: CNNVizError) -> Bool {
        let paths = [item.path, URL(fileURLWithPath: item.path).path]
        return [error.location, error.file].contains { $0.map(paths.contains) ?? false }
    }

    /// The exit status of a run in which some inputs failed and the others completed.
    static let someInputsFailed: Int32 = 4

    /// What every input of a run shares: labels, preprocessing, the targets' tensor, names.
    struct Context {
        var names: [String]?
        var preset: Preprocessing
        var choice: TargetChoice
        var tensorName: String
        var scoreName: String
        var fileName: String
        var display: RGBImage?
        /// The --tensor input, read once; nil for images, which are read one at a time.
        var tensorInput: Tensor?
        var totalImages: Int

        init(run: AttributionRun, totalImages: Int) throws {
            let session = run.session
            names = try classNames(file: run.options.labels, session: session)
            preset = try run.preprocessing.preprocessing(for: session)
            choice = try run.targets.choice(session: session, preprocessing: run.preprocessing, labels: run.options.labels)
            tensorName = try choice.tensor(in: session)
            scoreName = session.scoreName(of: tensorName)
            fileName = MethodFileName.of(run.name)
            display = try run.options.displayImage.map { try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: $0)) }
            tensorInput = try run.options.tensor.map { try run.preprocessing.tensor(image: nil, tensor: $0, session: session) }
            self.totalImages = tensorInput.map { $0.rank == 4 ? $0.shape[0] : 1 } ?? totalImages
        }
    }

    /// One input's maps, files, pictures and HTML page; `offset` is its first image's position
    /// in the run (for per-image class lists).
    func explain(_ item: DatasetItem, in directory: URL, offset: Int, context: Context, times: inout [Double],
                 _ compute: (_ input: Tensor, _ targets: [any AttributionTarget]) throws -> (explanations: [Explanation], warnings: [String]))
        throws -> [AttributionOptions.Result] {
        let source = item.path, names = context.names, tensorName = context.tensorName, scoreName = context.scoreName
        let photo = context.tensorInput == nil ? try preprocessing.decode(source) : nil
        let input = try context.tensorInput ?? preprocessing.tensor(from: photo!, path: source, session: session)
        guard input.rank == 4 else {
            throw CNNVizError(.shapeMismatch, "attribution needs an [N, C, H, W] input, found \(input.shape)", location: source)
        }
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let report = directory.appendingPathComponent("\(context.fileName).html")
        let pictures = try (0..<batch).map { try picture(of: input, item: $0, preset: context.preset, display: context.display) }
        // The photo's own geometry, for overlays on it (--view original, images only).
        let geometry = try photo.flatMap { photo in
            options.view == .original ? try PreprocessingGeometry(context.preset, original: ImageSize(width: photo.width, height: photo.height)) : nil
        }
        let lists = try context.choice.resolve(session: session, images: offset..<(offset + batch), totalImages: context.totalImages,
                                               labels: names, inputSize: (height, width)) {
            try session.run([session.graph.inputs[0].name: input], outputs: [tensorName])[tensorName]!
        }
        var figures = [String](), results = [AttributionOptions.Result]()
        for list in lists {
            let (explanations, warnings) = try options.timed(&times) { try compute(input, list) }
            for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            for (item, explanation) in explanations.enumerated() {
                let target = list.count == 1 ? list[0] : list[item]
                let className = target.classIndex.flatMap { c in names.flatMap { $0.indices.contains(c) ? $0[c] : nil } }
                let label = className ?? target.summary
                let captionLabel = className.map { "\(target.classIndex!) \($0)" } ?? target.summary
                let base = directory.appendingPathComponent(fileStem(for: "\(context.fileName)_\(Self.stem(of: target))" + (batch > 1 ? "_item\(item)" : "")))
                let raw = base.appendingPathExtension("npy"), shownFile = URL(fileURLWithPath: base.path + "_shown.npy")
                let shown = try style.shown(explanation.raw)
                try NumpyFile.write(explanation.raw, to: raw)
                try NumpyFile.write(shown, to: shownFile)
                var files = [String](), originalFile: URL?
                let caption = Caption(label: captionLabel, score: explanation.score, scoreName: scoreName,
                                      method: [captionMethod, style.summary].compactMap { $0 }.joined(separator: ", "),
                                      layer: explanation.layer)
                if let photo, let geometry {
                    let overlay = try PhotoOverlay(shown: shown, style: style, photo: photo, geometry: geometry)
                    originalFile = URL(fileURLWithPath: base.path + "_shown_original.npy")
                    try NumpyFile.write(overlay.map, to: originalFile!)
                    let (written, figure) = try options.figure(overlay.picture, caption: caption, colorBar: style.colorBar, base: base)
                    files = written
                    figures.append(figure)
                } else if let seen = pictures[item] {
                    let (written, figure) = try options.figure(try style.draw(shown, on: seen), caption: caption,
                                                               colorBar: style.colorBar, base: base)
                    files = written
                    figures.append(figure)
                }
                results.append(.init(image: source, item: batch > 1 ? item : nil, class: target.classIndex, label: label,
                                     target: target.summary, tensor: tensorName, score: explanation.score, scoreName: scoreName,
                                     method: name, layer: explanation.layer, raw: raw.path, shown: shownFile.path,
                                     shownOriginal: originalFile?.path, overlay: files, report: report.path,
                                     warnings: warnings.filter { batch == 1 || $0.contains("image \(item) ") },
                                     batchSize: explanation.batchSize))
            }
        }
        try AttributionPage.document(method: name, source: source, sectionTitle: sectionTitle, figures: figures).write(to: report)
        return results
    }

    /// The picture under item `item`'s maps: the --display-image (decoded once, by the caller),
    /// the image itself, or the tensor through the inverse of the preprocessing; nil when none
    /// can be had.
    func picture(of input: Tensor, item: Int, preset: Preprocessing, display: RGBImage?) throws -> RGBImage? {
        let (height, width) = (input.shape[2], input.shape[3])
        if let display {
            return display.width == width && display.height == height ? display : ImageResampling.bilinear(display, width: width, height: height)
        }
        if options.tensor == nil { return try preset.image(from: input, batchIndex: item) }
        return try? preset.image(from: input, batchIndex: item)
    }

    /// A file-name part for a target: the class index, or its kind.
    static func stem(of target: any AttributionTarget) -> String {
        switch target {
        case let element as ElementTarget: return "element_" + element.index.map(String.init).joined(separator: "_")
        case let region as RegionTarget: return "region_\(region.index)"
        case let detection as DetectionTarget:
            switch detection.selection {
            case .rank(let k): return "detection\(k + 1)" + (detection.classChoice.map { "_\($0)" } ?? "")
            case .overlapping: return "detection_box" + (detection.classChoice.map { "_\($0)" } ?? "")
            }
        case is SimilarityTarget: return "similarity"
        case is CotangentTarget: return "cotangent"
        case is OutputTarget: return "output"
        default: return target.classIndex.map(String.init) ?? "target"
        }
    }
}
