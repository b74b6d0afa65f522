import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// The pictures of `saliency` and `gradcam` as Captum and the user's photo define them: the
/// `shown` map against Captum 0.9.0's own `_normalize_attr` on the raw map, the signs of
/// occlusion on a scene whose objects are known, and the overlay on the photo at its own size,
/// whose map, resized and cropped by Pillow (float mode) as the preprocessing does, is the
/// model-resolution map.
final class VisualizationCommandTests: EngineTestCase {
    var out: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        out = FileManager.default.temporaryDirectory.appendingPathComponent("visualization-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: out)
        try super.tearDownWithError()
    }

    func squeezeNet(_ image: String) throws -> [String] {
        ["--model", try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx").path, "--preprocess", "caffe",
         try TestData.image(image).path]
    }

    static func firstResult(_ manifest: [String: Any]) throws -> [String: Any] {
        try XCTUnwrap((manifest["results"] as? [[String: Any]])?.first)
    }

    /// Points 1 and 2: four saliency methods × four signs on the real SqueezeNet and photo.
    /// Each `shown` equals Captum's normalisation of the raw map (≤ 1e-5), and with default
    /// options the share of shown pixels reaching a quarter of the scale is at least what
    /// Captum's `visualize_image_attr` defaults (absolute_value, outlier_perc 2) give.
    func testShownMapsAreCaptumsNormalisationAndAtLeastAsVisible() throws {
        let methods: [(String, [String])] = [("gradient", []), ("input-x-gradient", []),
                                             ("integrated-gradients", ["--steps", "16"]),
                                             ("occlusion", ["--window", "15", "--stride", "8"])]
        var cases = [[String: String]]()
        var defaultShares = [String: Double]()
        for (method, extra) in methods {
            for sign in ["all", "positive", "negative", "absolute_value", "default"] {
                let folder = out.appendingPathComponent("\(method)-\(sign)").path
                let signOption = sign == "default" ? [] : ["--sign", sign]
                let result = try Self.firstResult(TestData.runJSON(["saliency", "--method", method, "--view", "model", "--out", folder]
                                                                   + extra + signOption + squeezeNet("gradcam_both.png")))
                let raw = try XCTUnwrap(result["raw"] as? String), shown = try XCTUnwrap(result["shown"] as? String)
                if sign == "default" {
                    let values = try NumpyFile.read(contentsOf: URL(fileURLWithPath: shown)).floats
                    defaultShares[method] = Double(values.filter { abs($0) >= 0.25 }.count) / Double(values.count)
                    cases.append(["name": "\(method) default", "raw": raw, "shown": shown, "sign": "absolute_value", "captum_default": "1"])
                } else {
                    cases.append(["name": "\(method) \(sign)", "raw": raw, "shown": shown, "sign": sign])
                }
            }
        }
        let casesFile = out.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: cases).write(to: casesFile)
        let report = try TestData.python("""
            import json, numpy as np
            from captum.attr._utils.visualization import _normalize_attr
            result = {}
            for case in json.load(open('\(casesFile.path)')):
                raw = np.load(case['raw'])[0].transpose(1, 2, 0).sum(axis=2)
                expected = _normalize_attr(raw, case['sign'], 2)
                if case.get('captum_default'):
                    result[case['name']] = float((np.abs(expected) >= 0.25).mean())
                else:
                    result[case['name']] = float(np.abs(expected - np.load(case['shown'])).max())
            print(json.dumps(result))
            """, modules: ["numpy", "captum"])
        let values = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Double])
        XCTAssertEqual(values.count, 20)
        for (name, value) in values where !name.hasSuffix("default") {
            XCTAssertLessThanOrEqual(value, 1e-5, "max |shown − Captum's _normalize_attr| for \(name)")
        }
        for (method, share) in defaultShares {
            let captum = try XCTUnwrap(values["\(method) default"])
            XCTAssertGreaterThanOrEqual(share, captum - 1e-9, "\(method): share of pixels at ≥ ¼ of the scale, ours vs Captum's defaults")
            XCTAssertGreaterThan(share, 0.01, method)
        }
    }

    /// Point 3: occlusion on circle+star_1.png for "star" draws the circle in the negative
    /// colour and the star in the positive one. The masks come from the scene generator's
    /// ground truth for the same seed that made the sample.
    func testOcclusionDrawsEvidenceAgainstTheClassNegative() throws {
        let scenes = out.appendingPathComponent("scenes")
        let (status, _, errors) = try TestData.runBinary(["shapes", "generate", "--count", "60", "--seed", "7", "--two-objects", "0.3",
                                                          "--out", scenes.path])
        XCTAssertEqual(status, 0, errors)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let annotations = try decoder.decode(SceneAnnotations.self,
                                                   from: Data(contentsOf: scenes.appendingPathComponent("scenes.json")))
        let scene = try XCTUnwrap(annotations.scenes.first { Set($0.labels) == ["circle", "star"] })
        let sample = TestData.repositoryRoot.appendingPathComponent("samples/images/circle+star_1.png")
        // The same pixels (the PNG encoder's level may differ from the one that wrote the sample).
        let (generated, committed) = (try ImageDecoder.decode(contentsOf: scenes.appendingPathComponent(scene.file)), try ImageDecoder.decode(contentsOf: sample))
        XCTAssertEqual([generated.width, generated.height], [committed.width, committed.height])
        XCTAssertEqual(generated.pixels, committed.pixels)
        let result = try Self.firstResult(TestData.runJSON(["saliency", sample.path, "--method", "occlusion", "--class", "star",
                                                            "--out", out.appendingPathComponent("occlusion").path]))
        let shown = try NumpyFile.read(contentsOf: URL(fileURLWithPath: try XCTUnwrap(result["shown"] as? String))).floats
        for object in scene.objects {
            let mask = object.mask.mask
            let values = shown.indices.filter { mask[$0] }.map { shown[$0] }
            let mean = values.reduce(0, +) / Float(values.count)
            let agreeing = values.filter { object.label == "star" ? $0 > 0 : $0 < 0 }.count
            XCTAssert(object.label == "star" ? mean > 0.2 : mean < -0.2, "\(object.label): mean shown \(mean)")
            XCTAssertGreaterThan(Double(agreeing) / Double(values.count), 0.7, "\(object.label): share with the expected sign")
        }
        let picture = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: try XCTUnwrap((result["overlay"] as? [String])?.first)))
        XCTAssertGreaterThan(picture.width, 64)
    }

    /// Point 4: on skimage_chelsea.png (451×300) the default view is the photo: the map at the
    /// photo's size, which Pillow's float resize (short side 256, long side rounded) and the
    /// centre crop turn back into the model's map within 1e-5; the picture is 451×300.
    func testOverlayOnThePhotoIsAtItsSizeAndPreprocessesBackToTheModelsMap() throws {
        for (command, method) in [("gradcam", "gradcam"), ("saliency", "integrated-gradients")] {
            let result = try Self.firstResult(TestData.runJSON([command, "--method", method, "--out", out.appendingPathComponent(command).path]
                                                               + squeezeNet("skimage_chelsea.png")))
            let shown = try XCTUnwrap(result["shown"] as? String), original = try XCTUnwrap(result["shown_original"] as? String)
            XCTAssertEqual(try NumpyFile.read(contentsOf: URL(fileURLWithPath: original)).shape, [300, 451])
            let difference = try TestData.python("""
                import numpy as np
                from PIL import Image
                photo = np.load('\(original)').astype(np.float32)
                resized = np.asarray(Image.fromarray(photo, mode='F').resize((round(256 * 451 / 300), 256), Image.BILINEAR))
                left, top = round((resized.shape[1] - 224) / 2), round((resized.shape[0] - 224) / 2)
                print(float(np.abs(resized[top:top + 224, left:left + 224] - np.load('\(shown)')).max()))
                """, modules: ["numpy", "PIL"])
            XCTAssertLessThanOrEqual(try XCTUnwrap(Double(difference)), 1e-5, command)
        }
        let photo = try ImageDecoder.decode(contentsOf: try TestData.image("skimage_chelsea.png"))
        let geometry = try PreprocessingGeometry(.caffe, original: ImageSize(width: photo.width, height: photo.height))
        let overlay = try PhotoOverlay(shown: Tensor(shape: [224, 224], floats: [Float](repeating: 0.5, count: 224 * 224)),
                                       style: .cam(colormap: .jet, imageWeight: 0.5), photo: photo, geometry: geometry)
        XCTAssertEqual([overlay.picture.width, overlay.picture.height], [451, 300])
        // The crop keeps 224 of 256 × 385 resized pixels: pixel centres 18.75…281.25 and 93.7…356.1 of the photo.
        XCTAssertEqual(geometry.seenRows, 19..<281)
        XCTAssertEqual(geometry.seenColumns, 94..<356)
    }
}
