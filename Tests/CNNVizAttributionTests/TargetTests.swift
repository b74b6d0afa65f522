import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// Targets other than a classifier's class, per-image targets in a batch, and NHWC inputs.
/// References: finite differences of a float64 NumPy forward pass (detection heads), closed
/// forms (region, element, class axis, similarity, cotangent), and the NCHW original of a
/// model for its NHWC wrapping (scripts/reference/target_references.py writes the models).
final class TargetTests: EngineTestCase {
    struct References: Decodable {
        struct NHWC: Decodable { var nchw: String, nhwc: String, layer: String }
        struct Detection: Decodable {
            var layout: String, model: String, input: String, box: [Float], `class`: Int, anchor: Int, score: Float, gradient: String
        }
        var nhwc: NHWC
        var detection: [Detection]
    }

    func references() throws -> References {
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("targets/targets.json"))
        return try JSONDecoder().decode(References.self, from: Data(contentsOf: url))
    }

    // MARK: - Detection heads against finite differences

    /// On both YOLO layouts: the anchor best overlapping the box is NumPy's, its score
    /// (class · objectness for yolov5) is NumPy's, and ∂score/∂input equals central finite
    /// differences of the float64 forward pass.
    func testDetectionTargetGradientEqualsFiniteDifferences() throws {
        for reference in try references().detection {
            let session = try Session(contentsOf: URL(fileURLWithPath: reference.model))
            let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.input))
            let box = reference.box
            let target = DetectionTarget(.overlapping(x0: box[0], y0: box[1], x1: box[2], y1: box[3]), class: reference.class)
            let output = try session.run(["images": input], outputs: ["output0"])["output0"]!
            let item = TargetItem(output, name: "output0")
            XCTAssertEqual(try target.choose(item).anchor, reference.anchor, reference.layout)
            XCTAssertEqual(try target.score(item), reference.score, accuracy: 1e-5 * abs(reference.score), reference.layout)
            let result = try SaliencyRunner(session: session).run(.gradient, input: input, request: SaliencyRequest(targets: [target]))
            XCTAssertEqual(result.scores[0], reference.score, accuracy: 1e-5 * abs(reference.score))
            let expected = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.gradient)).floats
            XCTAssertGreaterThan(expected.map(abs).max() ?? 0, 1e-3)
            assertClose(result.attribution.floats, expected, .gradient, "\(reference.layout) against finite differences")
        }
    }

    // MARK: - Segmentation against pytorch-grad-cam

    /// torchvision DeepLabV3-MobileNetV3 (seeded weights) exported to ONNX: Grad-CAM of one
    /// class over a mask equals pytorch-grad-cam's with SemanticSegmentationTarget
    /// (scripts/reference/segmentation_reference.py): Pearson ≥ 0.999, max |Δ| ≤ 1e-2.
    func testRegionGradCAMEqualsPytorchGradCAMOnASegmenter() throws {
        struct Case: Decodable { var model: String, input: String, mask: String, category: Int, layer: String, output: String, map: String }
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("segmentation/segmentation.json"))
        let reference = try JSONDecoder().decode(Case.self, from: Data(contentsOf: url))
        let session = try Session(contentsOf: URL(fileURLWithPath: reference.model))
        let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.input))
        let mask = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.mask))
        var request = CAMRequest(targets: [RegionTarget(class: reference.category, mask: .pixels(mask.floats, height: mask.shape[0], width: mask.shape[1]),
                                                        tensor: reference.output)])
        request.layers = [reference.layer]
        let ours = try CAMRunner(session: session).run(GradCAM(), input: input, request: request).map.floats
        let theirs = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.map)).floats
        XCTAssertEqual(ours.count, theirs.count)
        let worst = zip(ours, theirs).map { abs($0 - $1) }.max() ?? .infinity
        let correlation = Self.pearson(ours, theirs)
        XCTAssertGreaterThanOrEqual(correlation, 0.999, "Pearson \(correlation), max |Δ| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-2, "Pearson \(correlation)")
    }

    static func pearson(_ a: [Float], _ b: [Float]) -> Double {
        let (x, y) = (a.map(Double.init), b.map(Double.init))
        let (mx, my) = (x.reduce(0, +) / Double(x.count), y.reduce(0, +) / Double(y.count))
        let covariance = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let deviations = (x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) } * y.reduce(0) { $0 + ($1 - my) * ($1 - my) }).squareRoot()
        return deviations > 0 ? covariance / deviations : 0
    }

    // MARK: - Real pretrained models from PyPI wheels

    struct WheelModels: Decodable {
        struct Recognition: Decodable { var model: String, input: String, argmax: [Int] }
        struct Detection: Decodable { var model: String, input: String, box: [Double] }
        var recognition: Recognition
        var detection: Detection
    }

    func wheelModels() throws -> WheelModels {
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("wheels/wheel_models.json"))
        return try JSONDecoder().decode(WheelModels.self, from: Data(contentsOf: url))
    }

    /// PP-OCRv4's recogniser (rapidocr-onnxruntime's wheel), output [1, 40, 6625]: Grad-CAM
    /// of each recognised (timestep, character) at the default layer puts its mass over that
    /// timestep's columns (width is downsampled by 8: timestep t sits over 8t … 8t + 7). Its
    /// 16-pixel band of highest mass is within 16 pixels of the timestep's centre, and the 24
    /// columns around the centre hold at least twice their uniform share (24/320).
    func testSequenceElementTargetLooksAtItsCharacter() throws {
        let reference = try wheelModels().recognition
        let session = try Session(contentsOf: URL(fileURLWithPath: reference.model))
        let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.input))
        let width = input.shape[3]
        let timesteps = reference.argmax.indices.filter { reference.argmax[$0] != 0 }
        XCTAssertGreaterThanOrEqual(timesteps.count, 6)
        for t in timesteps {
            let request = CAMRequest(targets: [ElementTarget([t, reference.argmax[t]])])
            let map = try CAMRunner(session: session).run(GradCAM(), input: input, request: request).map
            var columns = [Double](repeating: 0, count: width)
            for (i, v) in map.floats.enumerated() { columns[i % width] += Double(v) }
            let total = columns.reduce(0, +)
            XCTAssertGreaterThan(total, 0)
            let bands = (0...(width - 16)).map { start in columns[start..<(start + 16)].reduce(0, +) }
            let peak = bands.indices.max { bands[$0] < bands[$1] }! + 8
            let centre = 8 * t + 4
            XCTAssertLessThanOrEqual(abs(peak - centre), 16, "timestep \(t): peak column \(peak), centre \(centre)")
            let near = columns[max(0, centre - 12)..<min(width, centre + 12)].reduce(0, +) / total
            XCTAssertGreaterThanOrEqual(near, 2 * 24 / Double(width), "timestep \(t): \(near) of the mass within 12 columns")
        }
    }

    /// PP-OCRv4's text detector (DBNet, output [1, 1, H, W]): Grad-CAM of the text region that
    /// onnxruntime detects peaks inside that box.
    func testDetectedTextBoxGradCAMPeaksInsideTheBox() throws {
        let reference = try wheelModels().detection
        let session = try Session(contentsOf: URL(fileURLWithPath: reference.model))
        let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.input))
        let (height, width) = (input.shape[2], input.shape[3])
        let box = reference.box
        let target = RegionTarget(class: 0, mask: .box(x0: box[0], y0: box[1], x1: box[2], y1: box[3], height: height, width: width))
        let map = try CAMRunner(session: session).run(GradCAM(), input: input, request: CAMRequest(targets: [target])).map.floats
        let peak = map.indices.max { map[$0] < map[$1] }!
        let (y, x) = (Double(peak / width) + 0.5, Double(peak % width) + 0.5)
        XCTAssertTrue(x >= box[0] && x < box[2] && y >= box[1] && y < box[3], "peak at (\(x), \(y)), box \(box)")
    }

    /// MTCNN's ONet (facenet-pytorch's wheel, real weights): the face probability is its third
    /// output. Targeting it by name gives torch's probability and torch's input gradient.
    func testNamedOutputThatIsNotTheFirstEqualsTorch() throws {
        struct Case: Decodable { var model: String, input: String, output: String, `class`: Int, probability: Float, gradient: String }
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("mtcnn/mtcnn.json"))
        let reference = try JSONDecoder().decode(Case.self, from: Data(contentsOf: url))
        let session = try Session(contentsOf: URL(fileURLWithPath: reference.model))
        XCTAssertNotEqual(session.graph.outputs[0].name, reference.output)
        XCTAssertEqual(try TargetSet.defaultOutput(session).output, reference.output, "the default output is the one that ends in a Softmax")
        let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.input))
        let request = SaliencyRequest(targets: [ClassTarget(reference.class, tensor: reference.output)])
        let result = try SaliencyRunner(session: session).run(.gradient, input: input, request: request)
        XCTAssertEqual(result.scores[0], reference.probability, accuracy: 1e-5)
        let expected = try NumpyFile.read(contentsOf: URL(fileURLWithPath: reference.gradient)).floats
        XCTAssertGreaterThan(expected.map(abs).max() ?? 0, 0)
        assertClose(result.attribution.floats, expected, .gradient, "MTCNN face probability's input gradient against torch")
    }

    // MARK: - NHWC inputs

    /// SqueezeNet wrapped with an NHWC input and a Transpose, as tf2onnx writes it, explains
    /// exactly as the original: same default layer (a spatial tensor), same Grad-CAM map, same
    /// input gradient.
    func testNHWCModelExplainsLikeItsNCHWOriginal() throws {
        let reference = try references().nhwc
        let wrapped = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: reference.nhwc))
        XCTAssertEqual(wrapped.inputLayout, .nhwc)
        XCTAssertEqual(try ONNXImporter.load(contentsOf: URL(fileURLWithPath: reference.nchw)).inputLayout, .nchw)
        let sessions = [try Session(contentsOf: URL(fileURLWithPath: reference.nchw)), try Session(model: wrapped.withChannelsFirstInput())]
        XCTAssertEqual(sessions[1].graph.inputs[0].shape, [1, 3, 224, 224])
        var random = SeededRandom(state: 31)
        let input = random.tensor([1, 3, 224, 224])
        let cams = try sessions.map { try CAMRunner(session: $0).run(GradCAM(), input: input, request: CAMRequest(classes: [281])) }
        XCTAssertEqual(cams.map(\.layers), [[reference.layer], [reference.layer]])
        XCTAssertEqual(cams[1].map.shape, [1, 224, 224])
        assertClose(cams[1].map, cams[0].map, .reordering, "Grad-CAM, NHWC against NCHW")
        let gradients = try sessions.map { try SaliencyRunner(session: $0).run(.gradient, input: input, request: SaliencyRequest(classes: [281])) }
        assertClose(gradients[1].attribution, gradients[0].attribution, .reordering, "input gradient, NHWC against NCHW")
        XCTAssertGreaterThan(gradients[1].attribution.floats.map(abs).max() ?? 0, 0)
    }

    // MARK: - One target per image

    /// A batch of three scenes with three different classes gives exactly each scene's own map,
    /// for Grad-CAM and for the gradient family.
    func testPerImageTargetsInABatchEqualTheSingleImageMaps() throws {
        let session = try Session(model: try EmbeddedShapesModel.model())
        var random = SeededRandom(state: 12)
        let images = (0..<3).map { _ in random.tensor([1, 3, 64, 64]) }
        let batch = Tensor(shape: [3, 3, 64, 64], floats: images.flatMap(\.floats))
        let classes = [0, 3, 5]
        let cam = try CAMRunner(session: session).run(GradCAM(), input: batch, request: CAMRequest(classes: classes))
        for (n, image) in images.enumerated() {
            let alone = try CAMRunner(session: session).run(GradCAM(), input: image, request: CAMRequest(classes: [classes[n]]))
            XCTAssertLessThanOrEqual(maxDifference(cam.map.slice(n..<(n + 1)), alone.map), 1e-6, "gradcam image \(n)")
            XCTAssertEqual(cam.scores[n], alone.scores[0], accuracy: 1e-5)
        }
        for method in [SaliencyMethod.gradient, .integratedGradients] {
            var request = SaliencyRequest(classes: classes)
            request.steps = 8
            let together = try SaliencyRunner(session: session).run(method, input: batch, request: request)
            for (n, image) in images.enumerated() {
                request.targets = [ClassTarget(classes[n])]
                let alone = try SaliencyRunner(session: session).run(method, input: image, request: request)
                XCTAssertLessThanOrEqual(maxDifference(together.attribution.slice(n..<(n + 1)), alone.attribution), 1e-6,
                                         "\(method.rawValue) image \(n)")
            }
        }
    }

    // MARK: - Closed forms

    /// A region sums one class plane under the mask, resized to the output by nearest
    /// neighbour (⌊i·in/out⌋); its cotangent is that mask on that plane.
    func testRegionTargetSumsTheClassPlaneUnderTheResizedMask() throws {
        // y: [1, 2, 2, 3], values 0…11; class 1's plane is 6…11.
        let y = Tensor(shape: [1, 2, 2, 3], floats: (0..<12).map(Float.init))
        let item = TargetItem(y, name: "y")
        // A 4×6 mask whose left half is on: nearest to 2×3 keeps columns 0 and 1 (sources 0, 2).
        let mask = (0..<24).map { Float($0 % 6 < 3 ? 1 : 0) }
        let region = RegionTarget(class: 1, mask: .pixels(mask, height: 4, width: 6))
        XCTAssertEqual(try region.score(item), 6 + 7 + 9 + 10)
        XCTAssertEqual(try region.cotangent(item), [0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0])
        // A box over x in [0, 3), y in [0, 2) of the 4×6 image: the top-left output pixel pair.
        let box = RegionTarget(class: 0, mask: .box(x0: 0, y0: 0, x1: 3, y1: 2, height: 4, width: 6))
        XCTAssertEqual(try box.score(item), 0 + 1)
        // Predicted: class 1 wins everywhere (6…11 > 0…5).
        XCTAssertEqual(try RegionTarget(class: 1, mask: .predicted).score(item), (6...11).reduce(0) { $0 + Float($1) })
        XCTAssertEqual(try RegionTarget(class: 0, mask: .predicted).score(item), 0)
        XCTAssertThrowsError(try RegionTarget(class: 2, mask: .predicted).score(item)) {
            XCTAssertTrue("\($0)".contains("out of range"), "\($0)")
        }
    }

    /// A sequence output [N, T, C]: the class axis 2 sums one character over every timestep,
    /// an element is one (timestep, character), and a mismatched index names the shape.
    func testClassAxisAndElementOnASequenceOutput() throws {
        let y = Tensor(shape: [2, 3, 4], floats: (0..<24).map(Float.init))
        let items = TargetItem.items(of: y, batch: 2, name: "logits")
        XCTAssertEqual(try ClassTarget(2, axis: 2).score(items[1]), 14 + 18 + 22)
        XCTAssertEqual(try ClassTarget(1).score(items[0]), 4 + 5 + 6 + 7)
        XCTAssertEqual(try ElementTarget([2, 3]).score(items[1]), 23)
        XCTAssertEqual(try ElementTarget([2, 3]).cotangent(items[0]), (0..<12).map { $0 == 11 ? 1 : 0 })
        XCTAssertEqual(try ClassTarget.top(2, of: items[0], axis: 2).map(\.index), [3, 2])
        XCTAssertThrowsError(try ElementTarget([3, 0]).score(items[0])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("[2, 3, 4]") && text.contains("--index"), text)
        }
    }

    /// The cosine similarity's cotangent equals central differences in Double; the dot
    /// product's is the reference itself; a cotangent target's score is Σ v·y.
    func testSimilarityAndCotangentGradients() throws {
        let e: [Float] = [0.3, -1.2, 2.0, 0.5], r: [Float] = [1.0, 0.4, -0.7, 2.2]
        let y = Tensor(shape: [1, 4], floats: e)
        let cosine = SimilarityTarget(reference: r)
        let gradient = try cosine.cotangent(TargetItem(y, name: "e"))
        func score(_ v: [Double]) -> Double {
            let dot = zip(v, r).reduce(0) { $0 + $1.0 * Double($1.1) }
            return dot / (v.reduce(0) { $0 + $1 * $1 }.squareRoot() * r.reduce(0) { $0 + Double($1 * $1) }.squareRoot())
        }
        for i in 0..<4 {
            var up = e.map(Double.init), down = up
            up[i] += 1e-6
            down[i] -= 1e-6
            XCTAssertEqual(Double(gradient[i]), (score(up) - score(down)) / 2e-6, accuracy: 1e-6)
        }
        XCTAssertEqual(Double(try cosine.score(TargetItem(y, name: "e"))), score(e.map(Double.init)), accuracy: 1e-6)
        XCTAssertEqual(try SimilarityTarget(reference: r, measure: .dot).cotangent(TargetItem(y, name: "e")), r)
        let cotangent = CotangentTarget(Tensor(shape: [4], floats: [1, 0, -1, 2]))
        XCTAssertEqual(try cotangent.score(TargetItem(y, name: "e")), 0.3 - 2.0 + 1.0, accuracy: 1e-6)
    }

    /// Errors carry their facts as fields, not only in the message.
    func testErrorsCarryStructuredFields() throws {
        let session = try Session(model: try EmbeddedShapesModel.model())
        let wrongSize = Tensor.zeros([1, 3, 32, 32])
        XCTAssertThrowsError(try session.run(["image": wrongSize])) { error in
            let error = error as! CNNVizError
            XCTAssertEqual(error.code, .shapeMismatch)
            XCTAssertEqual(error.tensor, "image")
            XCTAssertEqual(error.foundShape, [1, 3, 32, 32])
            XCTAssertEqual(error.expectedShape.map { Array($0.suffix(3)) }, [3, 64, 64])
            XCTAssertEqual(error.file, session.model.source)
        }
        let input = Tensor.zeros([1, 3, 64, 64])
        XCTAssertThrowsError(try SaliencyRunner(session: session).run(.gradient, input: input, request: SaliencyRequest(targets: [ElementTarget([7])]))) { error in
            let error = error as! CNNVizError
            XCTAssertEqual(error.code, .invalidArgument)
            XCTAssertEqual(error.tensor, "logits")
            XCTAssertEqual(error.foundShape, [1, 6])
        }
        let node = Node(name: "conv9", opType: "Conv", inputs: ["x"], outputs: ["y"])
        XCTAssertEqual(CNNVizError(.invalidAttribute, "bad", location: node.location).node, "node 'conv9' (Conv)")
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a.floats, b.floats).map { abs($0 - $1) }.max() ?? .infinity
    }
}
