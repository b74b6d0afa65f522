import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `gradcam --manifest` over a dataset (the datasets issue, points 1–3, on a small set): nested
/// folders with name clashes, true labels from the scene generator's file names, a corrupt
/// and a truncated image among them, `--class label,predicted`. One process, two shards run
/// in parallel then merged, shards chosen by the Kubernetes and Slurm variables, and a run
/// killed and resumed all write the same maps byte for byte, the same per-image records and
/// the same index and aggregates; the aggregates are the test's own count of the records'
/// true and predicted classes; failures are listed with their reasons and the exit status is
/// 4; no two inputs share an output and nothing partial is left.
final class DatasetRunTests: EngineTestCase {
    var root: URL!
    var dataset: URL!
    var manifest: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-run-\(UUID().uuidString)")
        dataset = root.appendingPathComponent("data")
        let scenes = root.appendingPathComponent("scenes")
        let (status, _, errors) = try TestData.runBinary(["shapes", "generate", "--count", "14", "--seed", "11", "--out", scenes.path])
        XCTAssertEqual(status, 0, errors)
        let files = try FileManager.default.contentsOfDirectory(atPath: scenes.path).filter { $0.hasSuffix(".png") }.sorted()
        let places = ["a/img.png", "a/img.jpg", "b/img.png", "b/c/d/img.png", "b/c/one.png", "b/c/two.png", "top.png",
                      "a/x1.png", "a/x2.png", "b/x3.png", "b/c/x4.png", "b/c/d/x5.png"]
        // The generator names a scene after its classes (scene_00003_pentagon.png); the first is its label.
        var rows = ["path,label", "a/corrupt.png,circle", "b/truncated.png,star"]
        for (file, place) in zip(files, places) {
            let target = dataset.appendingPathComponent(place)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: scenes.appendingPathComponent(file), to: target)
            let classes = (file as NSString).deletingPathExtension.split(separator: "_").last!
            rows.append("\(place),\(classes.split(separator: "+")[0])")
        }
        manifest = dataset.appendingPathComponent("manifest.csv")
        try Data(rows.joined(separator: "\n").utf8).write(to: manifest)
        try Data("not an image at all".utf8).write(to: dataset.appendingPathComponent("a/corrupt.png"))
        let whole = try Data(contentsOf: scenes.appendingPathComponent(files[0]))
        try whole.prefix(whole.count / 3).write(to: dataset.appendingPathComponent("b/truncated.png"))
        try Data("notes".utf8).write(to: dataset.appendingPathComponent("b/readme.txt"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
        try super.tearDownWithError()
    }

    /// Starts `cnn-viz gradcam DATASET --out OUT` with extra arguments and environment.
    func start(_ out: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = try TestData.require(TestData.binary)
        process.arguments = ["gradcam", "--manifest", manifest.path, "--class", "label,predicted",
                             "--out", root.appendingPathComponent(out).path, "--json"] + extra
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func run(_ out: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> Int32 {
        let process = try start(out, extra, environment: environment)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Every file under an output folder, by relative path, with the run's own folder name
    /// replaced in the records so that two runs compare.
    func snapshot(_ out: String) throws -> [String: Data] {
        let base = root.appendingPathComponent(out)
        var files = [String: Data]()
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: base.path))
        for case let path as String in walker {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: base.appendingPathComponent(path).path, isDirectory: &isDirectory),
                  !isDirectory.boolValue, !Self.runFiles.contains(where: path.hasPrefix) else { continue }
            var data = try Data(contentsOf: base.appendingPathComponent(path))
            if path.hasSuffix(".json") || path.hasSuffix(".html") {
                data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: base.path, with: "OUT").utf8)
            }
            files[path] = data
        }
        return files
    }

    /// The files a run writes at its root from every input's records.
    static let runFiles = ["records", "index", "aggregates"]

    /// The run's root files, with the folder name replaced: after one process, or after `merge`.
    func runFiles(_ out: String) throws -> [String: String] {
        let base = root.appendingPathComponent(out)
        return try Dictionary(uniqueKeysWithValues: ["records.jsonl", "index.html", "index-rows.js", "aggregates.json"].map { name in
            (name, try String(contentsOf: base.appendingPathComponent(name), encoding: .utf8).replacingOccurrences(of: base.path, with: "OUT"))
        })
    }

    /// Merges a sharded run's records with `cnn-viz merge`.
    func merge(_ out: String) throws {
        let (status, _, errors) = try TestData.runBinary(["merge", root.appendingPathComponent(out).path])
        XCTAssertEqual(status, 0, errors)
    }

    /// The lines of every records file of a run, with the folder name replaced, sorted by key.
    func records(_ out: String) throws -> [String] {
        let base = root.appendingPathComponent(out)
        return try FileManager.default.contentsOfDirectory(atPath: base.path).filter { $0.hasPrefix("records") }.flatMap { name in
            try String(contentsOf: base.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: base.path, with: "OUT").split(separator: "\n").map(String.init)
        }.sorted()
    }

    func testShardsResumesAndFailuresGiveTheSameOutputs() throws {
        // One process.
        XCTAssertEqual(try run("single"), 4, "two inputs fail, so the exit status is 4")
        let single = try snapshot("single")
        let lines = try records("single")
        XCTAssertEqual(lines.count, 14)
        let failed = lines.filter { $0.contains("\"status\":\"failed\"") }
        XCTAssertEqual(failed.count, 2)
        XCTAssertTrue(failed.contains { $0.contains("a/corrupt.png") && $0.contains("not a PNG or JPEG") }, "\(failed)")
        XCTAssertTrue(failed.contains { $0.contains("b/truncated.png") && $0.contains("truncated") }, "\(failed)")
        // Every image that worked has its own folder: the clashing names did not share one.
        let folders = Set(single.keys.filter { $0.hasSuffix("record.json") }.map { ($0 as NSString).deletingLastPathComponent })
        XCTAssertEqual(folders, ["a/img.png", "a/img.jpg", "b/img", "b/c/d/img", "b/c/one", "b/c/two", "top",
                                 "a/x1", "a/x2", "b/x3", "b/c/x4", "b/c/d/x5"])
        XCTAssertFalse(single.keys.contains { $0.contains("corrupt") || $0.contains("truncated") || $0.hasSuffix(".tmp") })
        try checkAggregates(of: "single")
        let whole = try runFiles("single")

        // Two shards in parallel, and the same shards from Kubernetes' and Slurm's variables.
        let shards = try (0..<2).map { try start("sharded", ["--shard", "\($0)/2"]) }
        for process in shards { process.waitUntilExit() }
        XCTAssertTrue(shards.contains { $0.terminationStatus == 4 } && shards.allSatisfy { [0, 4].contains($0.terminationStatus) },
                      "\(shards.map(\.terminationStatus))")
        XCTAssertEqual(try snapshot("sharded"), single)
        XCTAssertEqual(try records("sharded"), lines)
        try merge("sharded")
        XCTAssertEqual(try runFiles("sharded"), whole, "merged shards write what one process writes")
        for index in 0..<2 {
            _ = try run("kubernetes", ["--shards", "2"], environment: ["JOB_COMPLETION_INDEX": "\(index)"])
            _ = try run("slurm", [], environment: ["SLURM_ARRAY_TASK_ID": "\(index + 1)", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1"])
        }
        XCTAssertEqual(try snapshot("kubernetes"), single)
        XCTAssertEqual(try snapshot("slurm"), single)
        XCTAssertEqual(try records("kubernetes"), lines)
        try merge("kubernetes")
        try merge("slurm")
        XCTAssertEqual(try runFiles("kubernetes"), whole)
        XCTAssertEqual(try runFiles("slurm"), whole)

        // Killed once the first image is complete, then run again: the same outputs, and the
        // images the first attempt completed are not redone.
        let killed = try start("resumed")
        let firstRecord = root.appendingPathComponent("resumed/a/img.jpg/gradcam.record.json")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: firstRecord.path), Date() < deadline { usleep(2000) }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let completedBefore = try snapshot("resumed").keys.filter { $0.hasSuffix("record.json") }.count
        XCTAssertGreaterThanOrEqual(completedBefore, 1)
        print("killed after \(completedBefore) of 12 images were complete")
        XCTAssertEqual(try run("resumed"), 4)
        XCTAssertEqual(try snapshot("resumed"), single)
        XCTAssertEqual(try records("resumed"), lines)
        XCTAssertEqual(try runFiles("resumed"), whole)
        // Run a third time: everything is skipped, nothing changes; --force redoes it all.
        XCTAssertEqual(try run("resumed"), 4)
        XCTAssertEqual(try snapshot("resumed"), single)
        XCTAssertEqual(try run("resumed", ["--force"]), 4)
        XCTAssertEqual(try snapshot("resumed"), single)

        // --fail-fast stops at the first failure with status 1.
        XCTAssertEqual(try run("fast", ["--fail-fast"]), 1)
    }

    /// The aggregates against the test's own count over records.jsonl: accuracy, per-class
    /// accuracy and the confusion matrix from each record's true and predicted class; and the
    /// --class label,predicted maps: one map when they agree, two (one per role) otherwise.
    func checkAggregates(of out: String) throws {
        let base = root.appendingPathComponent(out)
        let records = try String(contentsOf: base.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        var pairs = [(Int, Int)]()
        for record in records where record["status"] as? String == "ok" {
            let truth = try XCTUnwrap(record["true_class"] as? Int), predicted = try XCTUnwrap(record["predicted_class"] as? Int)
            pairs.append((truth, predicted))
            let roles = try XCTUnwrap(record["results"] as? [[String: Any]]).map { $0["role"] as? String }
            XCTAssertEqual(roles, truth == predicted ? ["label,predicted"] : ["label", "predicted"], "\(record["key"]!)")
            XCTAssertEqual(record["correct"] as? Bool, truth == predicted)
        }
        XCTAssertEqual(pairs.count, 12)
        let aggregates = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathComponent("aggregates.json"))) as? [String: Any])
        let correct = pairs.filter { $0.0 == $0.1 }.count
        XCTAssertEqual(aggregates["correct"] as? Int, correct)
        XCTAssertEqual(aggregates["labelled"] as? Int, 12)
        XCTAssertEqual(aggregates["failed"] as? Int, 2)
        XCTAssertEqual(try XCTUnwrap(aggregates["accuracy"] as? Double), Double(correct) / 12, accuracy: 1e-12)
        let confusion = try XCTUnwrap(aggregates["confusion"] as? [String: Any])
        let classes = try XCTUnwrap(confusion["classes"] as? [Int]), counts = try XCTUnwrap(confusion["counts"] as? [[Int]])
        XCTAssertEqual(classes, Set(pairs.flatMap { [$0.0, $0.1] }).sorted())
        for (i, truth) in classes.enumerated() {
            for (j, predicted) in classes.enumerated() {
                XCTAssertEqual(counts[i][j], pairs.filter { $0 == (truth, predicted) }.count, "confusion[\(truth)][\(predicted)]")
            }
        }
        // The records' top-1 class and confidence against onnxruntime on the shipped model, with
        // the preprocessing its metadata declares (shapes_reference.py's recipe).
        let model = TestData.repositoryRoot.appendingPathComponent("samples/models/shapes.onnx").path
        let checked = try TestData.python("""
            import json, numpy as np, onnx, onnxruntime
            from PIL import Image
            meta = {p.key: p.value for p in onnx.load('\(model)').metadata_props}
            scale = float(meta["cnn-viz.preprocess.scale"])
            mean = np.array([float(v) for v in meta["cnn-viz.preprocess.mean"].split(",")], np.float32)
            std = np.array([float(v) for v in meta["cnn-viz.preprocess.std"].split(",")], np.float32)
            session = onnxruntime.InferenceSession('\(model)', providers=["CPUExecutionProvider"])
            count, worst = 0, 0.0
            for line in open('\(base.path)/records.jsonl'):
                record = json.loads(line)
                if record["status"] != "ok":
                    continue
                x = np.asarray(Image.open(record["image"]).convert("RGB"), np.float32) * np.float32(scale)
                x = ((x - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
                logits = session.run(None, {session.get_inputs()[0].name: x})[0][0].astype(np.float64)
                p = np.exp(logits - logits.max()); p /= p.sum()
                assert record["predicted_class"] == int(np.argmax(logits)), (record["key"], record["predicted_class"], logits)
                worst = max(worst, abs(record["confidence"] - p.max()))
                count += 1
            print(count, worst)
            """, modules: ["numpy", "onnx", "onnxruntime", "PIL"]).split(separator: " ")
        XCTAssertEqual(Int(checked[0]), 12, "every explained image's prediction checked")
        XCTAssertLessThan(try XCTUnwrap(Double(checked[1].trimmingCharacters(in: .whitespacesAndNewlines))), 1e-5, "confidence = softmax of ort's logits")
        for perClass in try XCTUnwrap(aggregates["per_class"] as? [[String: Any]]) {
            let c = try XCTUnwrap(perClass["class"] as? Int), mine = pairs.filter { $0.0 == c }
            XCTAssertEqual(perClass["images"] as? Int, mine.count)
            XCTAssertEqual(perClass["correct"] as? Int, mine.filter { $0.1 == c }.count)
        }
    }

    /// `predict`, `report` and `activations` take the same dataset: predict's accuracy is the share of images
    /// whose top-1 class is the manifest's label (counted here from its own per-image results),
    /// report's and activations' folders mirror the tree, and each records the two bad files
    /// and exits with 4.
    func testPredictAndReportRunOverTheDataset() throws {
        let (status, output, errors) = try TestData.runBinary(["predict", "--manifest", manifest.path, "--top", "1", "--json"])
        XCTAssertEqual(status, 4, errors)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any])
        let results = try XCTUnwrap(result["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 12)
        XCTAssertEqual((result["failures"] as? [[String: Any]])?.count, 2)
        let names = ["circle", "square", "triangle", "star", "cross", "pentagon"]
        var right = 0
        for entry in results {
            let top = try XCTUnwrap((entry["top"] as? [[String: Any]])?.first?["class"] as? Int)
            let label = try XCTUnwrap(entry["label"] as? String)
            XCTAssertEqual(entry["true_class"] as? Int, names.firstIndex(of: label), label)
            if names.firstIndex(of: label) == top { right += 1 }
        }
        XCTAssertEqual(result["correct"] as? Int, right)
        XCTAssertEqual(try XCTUnwrap(result["accuracy"] as? Double), Double(right) / 12, accuracy: 1e-12)

        let out = root.appendingPathComponent("reports")
        let (reportStatus, _, reportErrors) = try TestData.runBinary(["report", dataset.path, "--out", out.path])
        XCTAssertEqual(reportStatus, 4, reportErrors)
        for key in ["a/img.png", "a/img.jpg", "b/img", "b/c/d/img", "top"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(key + "/report.html").path), key)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("a/corrupt").path), "no folder for a failed image")
        let index = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(index.contains("href=\"./b/c/d/img/report.html\""))

        let dumps = root.appendingPathComponent("activations")
        let (dumpStatus, _, dumpErrors) = try TestData.runBinary(["activations", dataset.path, "--out", dumps.path, "--channels", "2"])
        XCTAssertEqual(dumpStatus, 4, dumpErrors)
        for key in ["a/img.png", "a/img.jpg", "b/c/two", "top"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dumps.appendingPathComponent(key + "/activations.npz").path), key)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dumps.appendingPathComponent("b/truncated").path), "no folder for a failed image")
    }

    /// A manifest's boxes (the scene generator's ground truth) score each map: the records'
    /// pointing game and energy inside against NumPy's, from the shown map and the box
    /// (a pixel is inside when its centre is), computed afresh.
    func testManifestBoxesScoreTheMapsAsNumpyDoes() throws {
        let scenes = root.appendingPathComponent("boxed")
        let (status, _, errors) = try TestData.runBinary(["shapes", "generate", "--count", "6", "--seed", "4", "--out", scenes.path])
        XCTAssertEqual(status, 0, errors)
        let annotations = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: scenes.appendingPathComponent("scenes.json"))) as? [String: Any])
        var rows = ["path,label,box"]
        for scene in try XCTUnwrap(annotations["scenes"] as? [[String: Any]]) {
            let object = try XCTUnwrap((scene["objects"] as? [[String: Any]])?.first)
            let box = try XCTUnwrap(object["box"] as? [String: Int])
            rows.append("\(scene["file"]!),\(object["label"]!),\"\(box["x0"]!) \(box["y0"]!) \(box["x1"]!) \(box["y1"]!)\"")
        }
        let manifest = scenes.appendingPathComponent("boxes.csv")
        try Data(rows.joined(separator: "\n").utf8).write(to: manifest)
        let out = root.appendingPathComponent("boxed-out")
        let (runStatus, _, runErrors) = try TestData.runBinary(["gradcam", "--manifest", manifest.path, "--class", "label", "--out", out.path])
        XCTAssertEqual(runStatus, 0, runErrors)
        let checked = try TestData.python("""
            import json, numpy as np
            boxes = {}
            for line in open('\(manifest.path)').read().splitlines()[1:]:
                path, label, box = line.split(',', 2)
                boxes[path] = [float(v) for v in box.strip('"').split()]
            worst, count = 0.0, 0
            for line in open('\(out.path)/records.jsonl'):
                record = json.loads(line)
                x0, y0, x1, y1 = boxes[record['image'].rsplit('/', 1)[1]]
                for result in record['results']:
                    shown = np.load(result['shown']).astype(np.float64)
                    ys, xs = np.mgrid[0:shown.shape[0], 0:shown.shape[1]] + 0.5
                    mask = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
                    hit = bool(mask.flat[int(np.argmax(shown))])
                    positive = np.maximum(shown, 0)
                    energy = positive[mask].sum() / positive.sum() if positive.sum() > 0 else 0.0
                    assert result['pointing_hit'] == hit, (record['key'], result['pointing_hit'], hit)
                    worst = max(worst, abs(result['energy_inside'] - energy))
                    count += 1
            print(count, worst)
            """).split(separator: " ")
        XCTAssertEqual(Int(checked[0]), 6, "one map per image, each scored")
        XCTAssertLessThan(try XCTUnwrap(Double(checked[1].trimmingCharacters(in: .whitespacesAndNewlines))), 1e-9)
        let aggregates = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("aggregates.json"))) as? [String: Any])
        XCTAssertFalse(try XCTUnwrap(aggregates["localisation"] as? [Any]).isEmpty)
    }
    /// On a dense output ([N, C, H, W], a tiny fully convolutional net), a manifest's box is the
    /// image's region target: the dataset run's maps equal, byte for byte, those of a one-image
    /// run with the same box given as --box.
    func testManifestBoxIsTheRegionTargetOfADenseOutput() throws {
        let model = try NetworkBuilder(seed: 3).conv(out: 6, kernel: 3, pad: 1).relu().conv(out: 3, kernel: 1)
            .build(inputShape: [1, 3, 64, 64])
        let modelURL = root.appendingPathComponent("dense.onnx")
        try ONNXExporter.write(model, to: modelURL)
        let scenes = root.appendingPathComponent("dense-scenes")
        let (status, _, errors) = try TestData.runBinary(["shapes", "generate", "--count", "3", "--seed", "9", "--out", scenes.path])
        XCTAssertEqual(status, 0, errors)
        let annotations = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: scenes.appendingPathComponent("scenes.json"))) as? [String: Any])
        var rows = ["path,box"], boxes = [String: String]()
        for scene in try XCTUnwrap(annotations["scenes"] as? [[String: Any]]) {
            let box = try XCTUnwrap((scene["objects"] as? [[String: Any]])?.first?["box"] as? [String: Int])
            let file = try XCTUnwrap(scene["file"] as? String)
            rows.append("\(file),\"\(box["x0"]!) \(box["y0"]!) \(box["x1"]!) \(box["y1"]!)\"")
            boxes[file] = "\(box["x0"]!),\(box["y0"]!),\(box["x1"]!),\(box["y1"]!)"
        }
        let manifest = scenes.appendingPathComponent("boxes.csv")
        try Data(rows.joined(separator: "\n").utf8).write(to: manifest)
        let common = ["--model", modelURL.path, "--preprocess", "none", "--class", "1", "--layer", "relu1", "--view", "model"]
        let dataset = root.appendingPathComponent("dense-dataset")
        let (runStatus, _, runErrors) = try TestData.runBinary(["gradcam", "--manifest", manifest.path, "--out", dataset.path] + common)
        XCTAssertEqual(runStatus, 0, runErrors)
        for (file, box) in boxes {
            let key = (file as NSString).deletingPathExtension
            let single = root.appendingPathComponent("dense-single/" + key)
            let result = try TestData.runJSON(["gradcam", scenes.appendingPathComponent(file).path, "--box", box, "--out", single.path] + common)
            let target = try XCTUnwrap((result["results"] as? [[String: Any]])?.first?["target"] as? String)
            XCTAssertTrue(target.contains("over the box"), target)
            let fromManifest = try Data(contentsOf: dataset.appendingPathComponent(key + "/gradcam_region_1.npy"))
            let fromOption = try Data(contentsOf: single.appendingPathComponent("gradcam_region_1.npy"))
            XCTAssertEqual(fromManifest, fromOption, "\(file): the manifest's box and --box \(box) give the same map")
        }
    }
}
