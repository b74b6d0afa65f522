import CNNVizAttribution
import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// Feature visualisation against Lucent's formulas (NumPy and torch, in
/// `scripts/reference/feature_visualization_reference.py`), adjoints against their forward
/// maps, and the optimisation against what it must achieve.
final class FeatureVisualizationTests: XCTestCase {
    var folder: URL { TestData.referenceDirectory.appendingPathComponent("featurevis") }

    func reference(_ name: String) throws -> Tensor {
        try NumpyFile.read(contentsOf: try TestData.require(folder.appendingPathComponent(name)))
    }

    func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        guard a.shape == b.shape else { return }
        let worst = zip(a.floats, b.floats).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(message): max |a − b| = \(worst)", file: file, line: line)
    }

    /// Lucent's param.image (Fourier, decorrelated colour, sigmoid) from the same spectrum, for
    /// even and odd sizes and another decay, and the pixel basis: max |Δ| ≤ 1e-5.
    func testParameterizationEqualsLucentsFormulas() throws {
        for (name, basis) in [("fourier_224x224", ImageParameterization.Basis.fourier(decay: 1)), ("fourier_31x37", .fourier(decay: 1)),
                              ("fourier_16x20", .fourier(decay: 1)), ("decay2_24x24", .fourier(decay: 2)), ("pixel_12x10", .pixel)] {
            let spectrum = try reference("\(name).spectrum.npy"), expected = try reference("\(name).image.npy")
            let (batch, height, width) = (expected.shape[0], expected.shape[2], expected.shape[3])
            var parameters = spectrum.floats
            if basis != .pixel, width % 2 == 1 {
                // Lucent keeps one more frequency column for odd W, which irfftn drops.
                let (kept, stored) = (width / 2 + 1, spectrum.shape[3])
                parameters = (0..<(batch * 3 * height)).flatMap { row in spectrum.floats[(row * stored * 2)..<(row * stored * 2 + kept * 2)] }
            }
            let images = ParameterizedImages(ImageParameterization(basis: basis, decorrelatesColor: true), batch: batch, height: height, width: width,
                                             parameters: parameters).images()
            assertClose(images, expected, tolerance: 1e-5, name)
        }
        // Without decorrelation, the pixel basis is the sigmoid of the parameters, channel by channel.
        let parameters: [Float] = (0..<210).map { index -> Float in Float(index % 23) / 2 - 5.5 }
        let plain = ParameterizedImages(ImageParameterization(basis: .pixel, decorrelatesColor: false), batch: 2, height: 7, width: 5,
                                        parameters: parameters).images()
        for (value, parameter) in zip(plain.floats, parameters) {
            let expected: Double = 1 / (1 + exp(-Double(parameter)))
            XCTAssertEqual(Double(value), expected, accuracy: 1e-6)
        }
    }

    /// Each of Lucent's transforms at a fixed draw equals torch's (F.pad, Upsample with
    /// aligned corners and Lucent's padding, grid_sample for kornia's warps): max |Δ| ≤ 1e-5.
    func testTransformsEqualTorch() throws {
        let input = try reference("transforms.input.npy")
        let cases: [(String, ImageTransform.Drawn)] = [
            ("pad_12", .pad(12, value: 0.5)), ("translate_3_5", .translate(dx: 3, dy: 5)), ("scale_0.9", .scale(0.9)),
            ("scale_0.92", .scale(1 + Double(1 - 5) / 50)), ("scale_1.1", .scale(1.1)), ("rotate_7", .rotate(degrees: 7)), ("rotate_-10", .rotate(degrees: -10)),
        ]
        for (name, drawn) in cases {
            assertClose(drawn.apply(input).output, try reference("transform_\(name).npy"), tolerance: 1e-5, name)
        }
    }

    /// The command line's list reads Lucent's standard set back exactly (the scales as the same
    /// doubles), and a bad item is an error naming the option.
    func testTransformListReadsLucentsSet() throws {
        XCTAssertEqual(try ImageTransform.list(parsing: "standard"), ImageTransform.standard)
        XCTAssertEqual(try ImageTransform.list(parsing: "none"), [])
        let written = try ImageTransform.list(parsing: "pad=12,jitter=8,scale=0.9:1.1:0.02,rotate=-10:10:1,jitter=4")
        XCTAssertEqual(written[2], ImageTransform.standard[2])
        XCTAssertEqual(written[3], .rotate((-10...10).map(Double.init)))
        XCTAssertEqual(written[0], .pad(12, value: 0.5))
        XCTAssertThrowsError(try ImageTransform.list(parsing: "twirl=3")) { XCTAssertTrue("\($0)".contains("--transforms")) }
    }

    /// The gradient through each transform is the transpose of the transform (linear maps):
    /// ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ in Double, to float rounding.
    func testTransformAdjointsAreTransposes() {
        var noise = NetworkBuilder.SplitMix64(seed: 7)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &noise) })
        }
        let x = random([2, 3, 21, 17])
        for drawn in [ImageTransform.Drawn.pad(5, value: 0), .translate(dx: 2, dy: 7), .scale(0.9), .scale(1.06), .scale(1), .rotate(degrees: 9), .rotate(degrees: 0)] {
            let (output, adjoint) = drawn.apply(x)
            let y = random(output.shape)
            let forward = zip(output.floats, y.floats).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let backward = zip(x.floats, adjoint(y).floats).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(forward, backward, accuracy: 1e-4 * max(1, abs(forward)), "\(drawn)")
        }
    }

    /// ∂L/∂parameters of L = Σ w · image against central differences in Double-accumulated
    /// Float, for the Fourier and the pixel basis (a sigmoid and colour mix after each).
    func testParameterGradientMatchesFiniteDifferences() {
        for (basis, decorrelates) in [(ImageParameterization.Basis.fourier(decay: 1), true), (.pixel, true), (.fourier(decay: 1), false)] {
            let images = ParameterizedImages(ImageParameterization(basis: basis, decorrelatesColor: decorrelates), batch: 1, height: 6, width: 5,
                                             seed: 3, sd: 0.5)
            var noise = NetworkBuilder.SplitMix64(seed: 11)
            let weights = (0..<(3 * 30)).map { _ in Float.random(in: -1...1, using: &noise) }
            func loss(_ p: ParameterizedImages) -> Double { zip(p.images().floats, weights).reduce(0.0) { $0 + Double($1.0 * $1.1) } }
            let image = images.images()
            let gradient = images.parameterGradient(images: image, imageGradient: Tensor(shape: image.shape, floats: weights))
            for index in stride(from: 0, to: images.parameters.count, by: 7) {
                var (plus, minus) = (images, images)
                plus.parameters[index] += 1e-2
                minus.parameters[index] -= 1e-2
                let numeric = (loss(plus) - loss(minus)) / 2e-2
                XCTAssertEqual(Double(gradient[index]), numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(basis), decorrelated \(decorrelates), parameter \(index)")
            }
        }
    }

    /// The direction objective (a cosine per position) and Lucid's diversity term: their
    /// gradients against central differences of their own values, on a random layer.
    func testDirectionAndDiversityGradientsMatchFiniteDifferences() {
        var noise = NetworkBuilder.SplitMix64(seed: 5)
        let shape = [3, 5, 3, 4]
        let y = (0..<shape.reduce(1, *)).map { _ in Float.random(in: 0.1...2, using: &noise) }
        let direction = VisualizationObjective(layer: "y", .direction((0..<5).map { _ in Float.random(in: -1...1, using: &noise) }))
        func value(_ values: [Float]) -> Double {
            var unused = [Float](repeating: 0, count: values.count)
            return Double(direction.evaluate(values, shape: shape, item: 1, gradient: &unused))
        }
        func similarity(_ values: [Float]) -> Double {
            var unused = [Float](repeating: 0, count: values.count)
            return Double(Diversity.apply(values, shape: shape, weight: 1, gradient: &unused))
        }
        var directionGradient = [Float](repeating: 0, count: y.count), diversityGradient = directionGradient
        _ = direction.evaluate(y, shape: shape, item: 1, gradient: &directionGradient)
        _ = Diversity.apply(y, shape: shape, weight: 1, gradient: &diversityGradient)  // subtracts ∂S/∂y
        for index in stride(from: 0, to: y.count, by: 5) {
            var (plus, minus) = (y, y)
            plus[index] += 1e-2
            minus[index] -= 1e-2
            let numericDirection = (value(plus) - value(minus)) / 2e-2, numericDiversity = (similarity(plus) - similarity(minus)) / 2e-2
            XCTAssertEqual(Double(directionGradient[index]), numericDirection, accuracy: 1e-3 + 1e-2 * abs(numericDirection), "direction, element \(index)")
            XCTAssertEqual(Double(-diversityGradient[index]), numericDiversity, accuracy: 1e-3 + 1e-2 * abs(numericDiversity), "diversity, element \(index)")
        }
    }

    func shapesRequest(_ objectives: [VisualizationObjective], steps: Int, seed: UInt64) -> FeatureVisualizationRequest {
        var request = FeatureVisualizationRequest(objectives: objectives)
        request.steps = steps
        request.seed = seed
        request.inputMapping = ModelInputMapping(ShapesModel.preprocessing)
        return request
    }

    /// The same request and seed give bit-identical images; another seed does not.
    func testSameSeedSameImages() throws {
        let runner = FeatureVisualization(session: try Session(model: EmbeddedShapesModel.model()))
        let objectives = [VisualizationObjective(layer: "relu3", .channel(0)), VisualizationObjective(layer: "relu3", .channel(5))]
        let first = try runner.run(shapesRequest(objectives, steps: 6, seed: 42)).images.floats
        XCTAssertEqual(first, try runner.run(shapesRequest(objectives, steps: 6, seed: 42)).images.floats)
        XCTAssertNotEqual(first, try runner.run(shapesRequest(objectives, steps: 6, seed: 43)).images.floats)
    }

    /// On the embedded shapes model each class's optimised image, saved as 8-bit RGB and read
    /// back through the model's own preprocessing, is that class with probability above 0.9
    /// (its sigmoid score, as the model is trained) and the top-1 class.
    func testClassImagesAreClassifiedAsTheirClass() throws {
        let model = try EmbeddedShapesModel.model()
        let runner = FeatureVisualization(session: try Session(model: model))
        let classes = ShapeClass.allCases.map(\.rawValue)
        let result = try runner.run(shapesRequest(classes.map { VisualizationObjective(layer: "logits", .channel($0)) }, steps: 96, seed: 0))
        let classifier = try ShapesClassifier(model: model), session = classifier.session
        let input = try ShapesModel.batch(classes.map { RGBImage(unitBatch: result.images, index: $0) })
        let logits = try XCTUnwrap(try session.run([session.graph.inputs[0].name: input])[session.graph.outputs[0].name]).floats
        for c in classes {
            let row = Array(logits[(c * classes.count)..<((c + 1) * classes.count)])
            let probability = 1 / (1 + exp(-Double(row[c])))
            print("class \(ShapeClass.allCases[c]): logit \(row[c]), probability \(probability)")
            XCTAssertGreaterThan(probability, 0.9, "\(ShapeClass.allCases[c])")
            XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, c, "\(ShapeClass.allCases[c]) is the top class")
        }
    }

    struct PhotoMaxima: Decodable {
        var photos: [String]
        var maxima: [String: [Double]]
    }

    /// On the real SqueezeNet, a few channels of fire9/concat_1 and fire5/concat_1: the
    /// optimised image's channel mean exceeds the largest over every photo of
    /// ../shared/data/images (onnxruntime's). `make bench`'s visualize run covers 16 of each.
    func testOptimisedImagesOutdoEveryPhoto() throws {
        let maxima = try TestData.manifest(PhotoMaxima.self, at: "featurevis/photo_maxima.json")
        let session = try Session(contentsOf: try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx"))
        let runner = FeatureVisualization(session: session)
        for (layer, channels) in [("fire9/concat_1", [0, 7, 14]), ("fire5/concat_1", [3, 12])] {
            var request = FeatureVisualizationRequest(objectives: channels.map { VisualizationObjective(layer: layer, .channel($0)) })
            request.steps = 24
            request.inputMapping = ModelInputMapping(.caffe)
            let result = try runner.run(request)
            for (channel, value) in zip(channels, result.objectives) {
                let photos = try XCTUnwrap(maxima.maxima[layer])[channel]
                print("\(layer) channel \(channel): optimised \(value), best of \(maxima.photos.count) photos \(photos)")
                XCTAssertGreaterThan(Double(value), photos, "\(layer) channel \(channel)")
            }
        }
    }

    struct ExampleCase: Decodable {
        struct Example: Decodable {
            var image: String
            var value: Float
            var row: Int
            var column: Int
        }
        var layer: String
        var images: [String]
        var k: Int
        var channels: [Int]
        var examples: [[Example]]
    }

    /// The top-k dataset examples equal a brute-force search over onnxruntime's activations
    /// of every image: the same images in the same order, positions, and values (to 1e-4
    /// relative), for the shapes model over photo crops and SqueezeNet over the photos.
    func testDatasetExamplesEqualBruteForce() throws {
        let cases = try TestData.manifest([String: ExampleCase].self, at: "featurevis/examples.json")
        for (name, reference) in cases.sorted(by: { $0.key < $1.key }) {
            let (session, preprocessing, directory): (Session, Preprocessing, URL) = name == "shapes"
                ? (try Session(contentsOf: TestData.repositoryRoot.appendingPathComponent("samples/models/shapes.onnx")), ShapesModel.preprocessing, folder.appendingPathComponent("examples"))
                : (try Session(contentsOf: try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")), .caffe, TestData.shared.appendingPathComponent("data/images"))
            var finder = try ChannelExamples(session: session, layer: reference.layer, preprocessing: preprocessing)
            finder.count = reference.k
            let found = try finder.find(channels: reference.channels, images: reference.images.map { directory.appendingPathComponent($0).path })
            for (channel, (mine, theirs)) in zip(reference.channels, zip(found, reference.examples)) {
                XCTAssertEqual(mine.map { URL(fileURLWithPath: $0.image).lastPathComponent }, theirs.map(\.image), "\(name) channel \(channel): images")
                XCTAssertEqual(mine.map { [$0.row, $0.column] }, theirs.map { [$0.row, $0.column] }, "\(name) channel \(channel): positions")
                for (a, b) in zip(mine, theirs) {
                    XCTAssertEqual(a.value, b.value, accuracy: 1e-4 * max(1, abs(b.value)), "\(name) channel \(channel) \(b.image)")
                }
            }
        }
    }

    /// Objectives that don't fit the layer are errors that name it.
    func testObjectiveErrorsNameTheLayer() throws {
        let runner = FeatureVisualization(session: try Session(model: EmbeddedShapesModel.model()))
        for (objective, words) in [(VisualizationObjective(layer: "relu3", .channel(999)), "out of range"),
                                   (VisualizationObjective(layer: "relu3", .direction([1, 2])), "entries"),
                                   (VisualizationObjective(layer: "logits", .neuron(0, row: nil, column: nil)), "[B, C, H, W]")] {
            XCTAssertThrowsError(try runner.run(shapesRequest([objective], steps: 1, seed: 0))) { error in
                XCTAssertTrue("\(error)".contains(objective.layer) && "\(error)".contains(words), "\(error)")
            }
        }
    }
}
