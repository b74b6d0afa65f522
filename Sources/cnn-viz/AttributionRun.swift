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
        // Each image's prediction, default layer and gradient pass share one forward pass.
        session.forwardMemoLimit = try options.memoryLimitBytes
        let context = try Context(run: self, totalImages: items.count, isDataset: isDataset)
        if context.choice.needsTrueLabel, !items.isEmpty, items.allSatisfy({ $0.item.label == nil }) {
            throw CNNVizError(.invalidArgument, "--class label explains each image's true label, and no image has one; give --manifest FILE with a label column")
        }
        let progress = DatasetProgress(label: name, total: items.count, enabled: isDataset)
        var results = [AttributionOptions.Result](), times = [Double](), offset = 0
        var records = [DatasetRecord](), failures = [DatasetRecord.Failure](), skipped = 0
        var ahead = lookAhead(0, of: items, isDataset: isDataset, context: context)
        for (index, item) in items.enumerated() {
            defer { progress.advance() }
            let current = ahead
            ahead = lookAhead(index + 1, of: items, isDataset: isDataset, context: context)
            let directory = try options.directory(for: item.item, isDataset: isDataset)
            defer { offset += context.tensorInput.map { $0.shape[0] } ?? 1 }
            if var done = current.done {
                done.position = item.position   // the list may have grown since: the record takes its new place
                results += done.results ?? []
                records.append(done)
                skipped += 1
                continue
            }
            if isDataset { AttributionRun.removeStaleTemporaryFiles(in: directory) }
            let mark = AtomicFile.journalMark()
            var record = DatasetRecord(position: item.position, item: item.item, model: session.model.source)
            do {
                record.results = try explain(item.item, photo: current.photo, in: directory, offset: offset, record: &record,
                                             context: context, times: &times, compute)
                results += record.results!
                if isDataset { try record.write(to: directory, method: context.fileName) }
                records.append(record)
            } catch let error as CNNVizError where isDataset && !options.dataset.failFast && DatasetOptions.isAbout(item.item, error) {
                AtomicFile.removeWrittenFiles(since: mark)
                if (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.isEmpty ?? false {
                    try? FileManager.default.removeItem(at: directory)
                }
                let failure = DatasetRecord.Failure(item: item.item, error: error)
                progress.interrupt(failure.message)
                failures.append(failure)
                records.append(record.failed(failure.reason))
            }
        }
        progress.finish()
        if isDataset {
            let root = URL(fileURLWithPath: options.out ?? "reports")
            let linesFile = DatasetRecord.linesFile(in: root, shard: shard)
            try DatasetRecord.writeLines(records, to: linesFile)
            var summary = "\(name): \(items.count - failures.count - skipped) done, \(failures.count) failed, "
                + "\(skipped) skipped (complete from an earlier run) of \(items.count) inputs"
                + (shard.count > 1 ? " in shard \(shard)" : "") + "; records → \(linesFile.path)"
            if shard.count == 1 {
                summary += "; index → " + (try DatasetIndex.write(records, in: root)).path
            } else {
                summary += "; when every shard is done: cnn-viz merge \(root.path)"
            }
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        }
        try options.report(results, failures: failures, skipped: skipped, model: session.model.source, times: times)
        if !failures.isEmpty { throw ExitCode(DatasetOptions.someInputsFailed) }
    }

    /// What the run knows of image `index` before its turn: the record of an earlier run that
    /// completed it (then it is skipped), or else its photo, decoding in the background while
    /// the image before it is explained (none for a tensor input, or past the end).
    func lookAhead(_ index: Int, of items: [(position: Int, item: DatasetItem)], isDataset: Bool,
                   context: Context) -> (done: DatasetRecord?, photo: Prefetched<RGBImage>?) {
        guard index < items.count else { return (nil, nil) }
        let item = items[index].item
        if isDataset, !targets.force,
           let done = DatasetRecord.completed(in: options.directoryURL(for: item, isDataset: isDataset), method: context.fileName,
                                              image: item, model: session.model.source) {
            return (done, nil)
        }
        guard context.tensorInput == nil else { return (nil, nil) }
        let path = item.path
        return (nil, Prefetched { try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path)) })
    }

    /// Removes the hidden `.NAME.UUID.tmp` files that `AtomicFile` leaves only when a process is
    /// killed mid-write, so that a resumed run leaves whole files or none.
    static func removeStaleTemporaryFiles(in directory: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

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
        /// Dataset runs also write thumbnails for the index page.
        var isDataset: Bool
        var geometries = GeometryCache()

        init(run: AttributionRun, totalImages: Int, isDataset: Bool) throws {
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
            self.isDataset = isDataset
        }

        /// Class `index`'s name, when the labels have it.
        func name(of index: Int?) -> String? {
            index.flatMap { c in names.flatMap { $0.indices.contains(c) ? $0[c] : nil } }
        }
    }

    /// The preprocessing geometry of the last few photo sizes: a dataset's photos often share
    /// a size, and each geometry solves two small linear systems. Pitfall: a geometry holds
    /// matrices of the photo's size (a megabyte or two), so the cache is small and evicts the
    /// oldest: a dataset of a thousand sizes must not keep a thousand geometries.
    final class GeometryCache {
        static let capacity = 4
        private var recent = [(size: ImageSize, geometry: PreprocessingGeometry)]()

        func geometry(_ preset: Preprocessing, original: ImageSize) throws -> PreprocessingGeometry {
            if let known = recent.first(where: { $0.size == original }) { return known.geometry }
            let geometry = try PreprocessingGeometry(preset, original: original)
            if recent.count == Self.capacity { recent.removeFirst() }
            recent.append((original, geometry))
            return geometry
        }
    }

    /// One input's maps, files, pictures and HTML page; what the run learns about the image
    /// (true and predicted class, thumbnail) goes into `record`. `photo` is its image when
    /// already being decoded, `offset` its first image's position in the run (for per-image
    /// class lists).
    func explain(_ item: DatasetItem, photo prefetched: Prefetched<RGBImage>?, in directory: URL, offset: Int, record: inout DatasetRecord,
                 context: Context, times: inout [Double],
                 _ compute: (_ input: Tensor, _ targets: [any AttributionTarget]) throws -> (explanations: [Explanation], warnings: [String]))
        throws -> [AttributionOptions.Result] {
        let source = item.path, tensorName = context.tensorName, scoreName = context.scoreName
        let photo = context.tensorInput == nil ? try prefetched?.value() ?? preprocessing.decode(source) : nil
        let input = try context.tensorInput ?? preprocessing.tensor(from: photo!, path: source, session: session)
        guard input.rank == 4 else {
            throw CNNVizError(.shapeMismatch, "attribution needs an [N, C, H, W] input, found \(input.shape)", location: source)
        }
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let modelSize = ImageSize(width: width, height: height)
        let report = directory.appendingPathComponent("\(context.fileName).html")
        // The photo's own geometry, for overlays on it (--view original, images only) and for
        // the manifest's boxes and masks.
        let geometry = try photo.map { try context.geometries.geometry(context.preset, original: ImageSize(width: $0.width, height: $0.height)) }
        let drawsOnPhoto = photo != nil && options.view == .original
        let pictures = try (0..<batch).map { drawsOnPhoto ? nil : try picture(of: input, item: $0, preset: context.preset, display: context.display) }
        var output: Tensor?
        func y() throws -> Tensor {
            if let output { return output }
            output = try session.run([session.graph.inputs[0].name: input], outputs: [tensorName])[tensorName]!
            return output!
        }
        try describe(&record, batch: batch, context: context, y: y)
        let (choice, roles) = try context.choice.substitutingClassWords(trueClass: record.trueClass, predicted: record.predictedClass, image: source)
        let truth = try GroundTruthMask.plane(box: item.box, maskFile: item.mask, original: photo.map { ImageSize(width: $0.width, height: $0.height) } ?? modelSize,
                                              model: modelSize, geometry: geometry)
        let regionChoice = try truth.flatMap { Self.groundTruthTarget(choice, truth: $0, width: width, rank: try y().rank) } ?? choice
        let lists = try regionChoice.resolve(session: session, images: offset..<(offset + batch), totalImages: context.totalImages,
                                             labels: context.names, inputSize: (height, width), values: y)
        if context.isDataset, let photo {
            let thumbnail = directory.appendingPathComponent("thumbnail.png")
            try Thumbnail.write(photo, to: thumbnail)
            record.thumbnail = thumbnail.path
        }
        var figures = [String](), results = [AttributionOptions.Result]()
        for (listIndex, list) in lists.enumerated() {
            let (explanations, warnings) = try options.timed(&times, reset: session.forgetForwardPass) { try compute(input, list) }
            for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            for (item, explanation) in explanations.enumerated() {
                let target = list.count == 1 ? list[0] : list[item]
                let className = context.name(of: target.classIndex)
                let label = className ?? target.summary
                let captionLabel = className.map { "\(target.classIndex!) \($0)" } ?? target.summary
                let base = directory.appendingPathComponent(fileStem(for: "\(context.fileName)_\(Self.stem(of: target))" + (batch > 1 ? "_item\(item)" : "")))
                let raw = base.appendingPathExtension("npy"), shownFile = URL(fileURLWithPath: base.path + "_shown.npy")
                let shown = try style.shown(explanation.raw)
                try NumpyFile.write(explanation.raw, to: raw)
                try NumpyFile.write(shown, to: shownFile)
                var originalFile: URL?
                let caption = Caption(label: captionLabel, score: explanation.score, scoreName: scoreName,
                                      method: [captionMethod, style.summary].compactMap { $0 }.joined(separator: ", "),
                                      layer: explanation.layer)
                let drawn: RGBAImage?
                if drawsOnPhoto, let photo, let geometry {
                    let overlay = try PhotoOverlay(shown: shown, style: style, photo: photo, geometry: geometry)
                    originalFile = URL(fileURLWithPath: base.path + "_shown_original.npy")
                    try NumpyFile.write(overlay.map, to: originalFile!)
                    drawn = overlay.picture
                } else {
                    drawn = try pictures[item].map { try style.draw(shown, on: $0) }
                }
                var files = [String](), thumbnail: String?
                if let drawn {
                    let (written, figure) = try options.figure(drawn, caption: caption, colorBar: style.colorBar, base: base)
                    files = written
                    figures.append(figure)
                    if context.isDataset {
                        let url = URL(fileURLWithPath: base.path + "_thumb.png")
                        try Thumbnail.write(drawn.composited(), to: url)
                        thumbnail = url.path
                    }
                }
                let localised = truth.flatMap { truth in shown.count == truth.count ? truth : nil }
                results.append(.init(image: source, item: batch > 1 ? item : nil, class: target.classIndex, label: label,
                                     target: target.summary, tensor: tensorName, score: explanation.score, scoreName: scoreName,
                                     method: name, layer: explanation.layer, raw: raw.path, shown: shownFile.path,
                                     shownOriginal: originalFile?.path, overlay: files, report: report.path,
                                     warnings: warnings.filter { batch == 1 || $0.contains("image \(item) ") },
                                     batchSize: explanation.batchSize,
                                     role: roles.indices.contains(listIndex) ? roles[listIndex] : nil,
                                     pointingHit: localised.map { AttributionScores.pointingHit(map: shown.floats[...], mask: $0) },
                                     energyInside: localised.map { AttributionScores.energyInside(map: shown.floats[...], mask: $0) },
                                     thumbnail: thumbnail))
            }
        }
        try AttributionPage.document(method: name, source: source, sectionTitle: sectionTitle, figures: figures).write(to: report)
        return results
    }

    /// The image's true class (from the manifest's label, by index or name) and the model's
    /// top-1 prediction, for one image and a target tensor with a class axis.
    func describe(_ record: inout DatasetRecord, batch: Int, context: Context, y: () throws -> Tensor) throws {
        record.trueClass = try record.label.map { label in
            do { return try TargetChoice.classIndex(label, labels: context.names, synsets: context.choice.synsets) } catch let error as CNNVizError {
                throw CNNVizError(.invalidArgument, "the manifest's label: \(error.message)", location: record.image)
            }
        }
        record.trueName = context.name(of: record.trueClass)
        // The prediction costs a forward pass that a one-image run with its own target does not need.
        let usesClassWords = context.choice.classes.contains(where: TargetChoice.isClassWords)
        guard batch == 1, context.isDataset || usesClassWords else { return }
        let output = try y()
        guard output.rank == 2 || usesClassWords else { return }
        let prediction = TopPrediction.of(TargetItem(output, name: context.tensorName), axis: context.choice.classAxis,
                                          isProbability: context.scoreName == "probability")
        record.predicted(prediction, name: context.name(of: prediction?.classIndex))
    }

    /// A manifest's region as the image's target when the targets read a dense output (a
    /// region of a segmentation map) or a detector head (the box around it), and no --mask or
    /// --box was given; for a classifier the region only scores the maps (nil: unchanged).
    static func groundTruthTarget(_ choice: TargetChoice, truth: [Bool], width: Int, rank: Int) -> TargetChoice? {
        guard choice.mask == nil, choice.box == nil, rank == 3 || rank == 4 else { return nil }
        var changed = choice
        if rank == 4 {
            changed.mask = .pixels(truth.map { $0 ? 1 : 0 }, height: truth.count / width, width: width)
        } else {
            changed.box = GroundTruthMask.boundingBox(of: truth, width: width)
        }
        return changed
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
