import CNNVizAttribution
import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// The shipped default model: that it is what the binary embeds, that onnxruntime agrees with
/// it, that it meets the accuracy and Grad-CAM targets on scenes it never saw, and that its
/// first-layer filters became structured.
final class ShapesModelTests: EngineTestCase {
    static let shipped = TestData.repositoryRoot.appendingPathComponent("samples/models/shapes.onnx")
    static let samples = TestData.repositoryRoot.appendingPathComponent("samples/images")

    func testTheBinaryEmbedsTheShippedFile() throws {
        let file = try Data(contentsOf: Self.shipped)
        XCTAssertEqual(EmbeddedShapesModel.data, file, "samples/models/shapes.onnx changed: run make embed-model")
        XCTAssertLessThan(file.count, 2 << 20, "the shipped model should stay under 2 MB")
    }

    func testTheModelDeclaresItsClassesAndPreprocessing() throws {
        let model = try EmbeddedShapesModel.model()
        XCTAssertEqual(ModelMetadata.labels(of: model), ["circle", "square", "triangle", "star", "cross", "pentagon"])
        let preprocessing = try XCTUnwrap(try ModelMetadata.preprocessing(of: model))
        XCTAssertEqual(preprocessing.resize, .exact(ImageSize(64)))
        XCTAssertEqual(preprocessing.mean, [0.5])
        XCTAssertEqual(preprocessing.std, [0.25])
        XCTAssertEqual(preprocessing.scale, 1.0 / 255)
    }

    /// Inputs built by NumPy from the metadata, logits from onnxruntime (scripts/reference/shapes_reference.py).
    func testLogitsEqualOnnxruntimeOnTheSampleScenes() throws {
        let directory = TestData.referenceDirectory.appendingPathComponent("shapes")
        let index = try TestData.require(directory.appendingPathComponent("index.json"))
        let images = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any])?["images"] as? [String: String])
        XCTAssertGreaterThanOrEqual(images.count, 6)
        let session = try Session(model: try EmbeddedShapesModel.model())
        let preprocessing = try XCTUnwrap(try ModelMetadata.preprocessing(of: session.model))
        for (stem, path) in images.sorted(by: { $0.key < $1.key }) {
            let input = try preprocessing.tensor(from: try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path)), for: session.graph.inputs[0])
            let expectedInput = try NumpyFile.read(contentsOf: directory.appendingPathComponent("\(stem).input.npy"))
            XCTAssertEqual(input.shape, expectedInput.shape)
            for (a, b) in zip(input.floats, expectedInput.floats) { XCTAssertEqual(a, b, accuracy: 1e-6, stem) }
            let logits = try session.run(["image": input], outputs: ["logits"])["logits"]!
            let expected = try NumpyFile.read(contentsOf: directory.appendingPathComponent("\(stem).logits.npy"))
            XCTAssertEqual(logits.shape, [1, 6])
            for (a, b) in zip(logits.floats, expected.floats) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(stem): cnn-viz \(a), onnxruntime \(b)") }
            // The sample files are named after the classes they show: those are the positive logits.
            let present = Set(stem.split(separator: "_").first!.split(separator: "+").map(String.init))
            let predicted = Set(logits.floats.indices.filter { logits.floats[$0] > 0 }.map { ShapeClass.names[$0] })
            XCTAssertEqual(predicted, present, "\(stem): logits \(logits.floats)")
        }
    }

    /// Issue targets on a seed used neither for training (1) nor for validation: accuracy ≥ 97%
    /// on 1000 single-object scenes, Grad-CAM pointing game ≥ 90%, class-discriminative ≥ 80%.
    func testHeldOutAccuracyAndGradCAMLocalisation() throws {
        let session = try Session(model: try EmbeddedShapesModel.model())
        let evaluator = ShapesEvaluator(session: session, seed: 424_242, singleObjectScenes: 1000, twoObjectScenes: 300)
        let report = try evaluator.evaluate([try AttributionMethod.named("gradcam")])
        let gradcam = report.methods[0]
        print("held-out accuracy \(report.accuracy), Grad-CAM pointing \(gradcam.pointingGame), energy \(gradcam.energyInMask), "
              + "discriminative \(gradcam.discriminativeHitRate ?? -1)")
        XCTAssertGreaterThanOrEqual(report.accuracy, 0.97)
        XCTAssertGreaterThanOrEqual(gradcam.pointingGame, 0.90)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(gradcam.discriminativeHitRate), 0.80)
        XCTAssertGreaterThan(gradcam.energyInMask, 2 * gradcam.maskAreaFraction, "the map should concentrate on the object")
    }

    func testTrainingMadeTheFirstLayerFiltersSmoother() throws {
        let trained = try EmbeddedShapesModel.model()
        let seed = try XCTUnwrap(trained.metadata["cnn-viz.seed"].flatMap(UInt64.init))
        let untrained = try ShapesModel.untrained(seed: seed)
        let before = try XCTUnwrap(FilterSpectrum.lowFrequencyShare(try XCTUnwrap(untrained.graph.initializers["conv1.weight"])))
        let after = try XCTUnwrap(FilterSpectrum.lowFrequencyShare(try XCTUnwrap(trained.graph.initializers["conv1.weight"])))
        print("conv1 low-frequency share: epoch 0 \(before), shipped \(after)")
        XCTAssertEqual(before, 9.0 / 25, accuracy: 0.06, "He-uniform filters are white noise")
        XCTAssertGreaterThan(after, before + 0.1)
    }

    /// Reproducibility: the documented command (the trainer's defaults, recorded in the shipped
    /// model's metadata) trains, from scratch, a model with the same graph and parameter shapes
    /// whose held-out accuracy is within 1 point of the shipped one's. About 6 minutes on 2 cores.
    func testTrainingWithTheDocumentedSeedReproducesTheShippedModel() throws {
        let shipped = try EmbeddedShapesModel.model()
        let trainer = ShapesTrainer(options: ShapesTrainer.Options())
        XCTAssertEqual(shipped.metadata["cnn-viz.training"], trainer.description, "the shipped model was trained with other settings")
        let retrained = try trainer.train()
        XCTAssertEqual(retrained.graph.nodes.map(\.opType), shipped.graph.nodes.map(\.opType))
        XCTAssertEqual(retrained.graph.initializers.mapValues(\.shape), shipped.graph.initializers.mapValues(\.shape))
        let scenes = try SceneGenerator(seed: 31_337).scenes(0..<1000, objectCount: 1)
        let accuracy = (try ShapesClassifier(model: retrained).accuracy(on: scenes), try ShapesClassifier(model: shipped).accuracy(on: scenes))
        var largest: Float = 0
        for (name, value) in shipped.graph.initializers {
            for (a, b) in zip(value.floats, retrained.graph.initializers[name]!.floats) { largest = max(largest, abs(a - b)) }
        }
        print("held-out accuracy: retrained \(accuracy.0), shipped \(accuracy.1); largest weight difference \(largest)")
        XCTAssertEqual(accuracy.0, accuracy.1, accuracy: 0.01)
    }

    /// `cnn-viz gradcam` on a sample scene from another working directory, with no --model:
    /// the embedded model, its labels and its preprocessing, the default layer, the files.
    func testGradCAMWorksFromAnyDirectoryWithoutAModel() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnviz-gradcam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scene = Self.samples.appendingPathComponent("star_1.png")
        let (status, data, errors) = try TestData.runProcess(try TestData.require(TestData.binary),
                                                             ["gradcam", scene.path, "--out", "maps", "--json"], in: directory)
        XCTAssertEqual(status, 0, errors)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let result = try XCTUnwrap((json["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["label"] as? String, "star")
        XCTAssertEqual(result["layer"] as? String, ShapesModel.targetLayer)
        let files = [try XCTUnwrap(result["raw"] as? String), try XCTUnwrap(result["report"] as? String)]
            + (try XCTUnwrap(result["overlay"] as? [String]))
        XCTAssertEqual(files.count, 3)
        for path in files {
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "missing \(path)")
        }
    }

    /// `filters` across checkpoints: one picture, grids side by side, and the structure measure rises.
    func testFilterEvolutionAcrossCheckpoints() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnviz-evolution-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let epoch0 = directory.appendingPathComponent("epoch0.onnx")
        try ONNXExporter.write(try ShapesModel.untrained(seed: 1), to: epoch0)
        let json = try TestData.runJSON(["filters", "--model", epoch0.path, "--model", Self.shipped.path, "--layer", "conv1",
                                         "--out", directory.appendingPathComponent("filters").path])
        let entries = try XCTUnwrap(json["filters"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 2)
        let shares = entries.compactMap { $0["low_frequency_share"] as? Double }
        XCTAssertEqual(shares.count, 2)
        XCTAssertGreaterThan(shares[1], shares[0])
        let picture = try XCTUnwrap((entries[0]["files"] as? [String])?.first)
        XCTAssertTrue(picture.hasSuffix("conv1_evolution.png"), picture)
        let image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: picture))
        let single = try XCTUnwrap(try TestData.runJSON(["filters", "--model", Self.shipped.path, "--layer", "conv1",
                                                         "--out", directory.appendingPathComponent("one").path])["filters"] as? [[String: Any]])
        let one = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: try XCTUnwrap((single[0]["files"] as? [String])?.first)))
        XCTAssertGreaterThanOrEqual(image.width, 2 * one.width, "two grids side by side")
        XCTAssertGreaterThan(image.height, one.height, "under their captions")
    }
}
