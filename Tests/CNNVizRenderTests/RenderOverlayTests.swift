import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Overlays against their published formulas, evaluated in NumPy (with OpenCV's and
/// matplotlib's own colormaps) on synthetic images.
final class RenderOverlayTests: EngineTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("render-overlay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A 37×23 image with every channel different, and its [1, 1, 23, 37] map: a smooth bump
    /// with exact 0s and 1s in it.
    static func syntheticImage(width: Int = 37, height: Int = 23) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                pixels[3 * (y * width + x)] = UInt8((x * 7 + y * 3) % 256)
                pixels[3 * (y * width + x) + 1] = UInt8((x * y + 40) % 256)
                pixels[3 * (y * width + x) + 2] = UInt8(255 - (x * 5 + y * 11) % 200)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func syntheticMap(width: Int = 37, height: Int = 23, signed: Bool = false, channels: Int = 1) -> Tensor {
        var values: [Float] = []
        for channel in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Float(x) / Float(width - 1) - 0.3, dy = Float(y) / Float(height - 1) - 0.6
                    var value = exp(-4 * (dx * dx + dy * dy)) + 0.05 * sin(Float(x * 13 + y * 7 + channel))
                    if signed { value = value * cos(Float(x) / 4 + Float(channel)) - 0.2 }
                    values.append(value)
                }
            }
        }
        if !signed {
            let low = values.min()!, high = values.max()!
            values = values.map { ($0 - low) / (high - low) }  // exact 0 and 1 present
        }
        return Tensor(shape: [1, channels, height, width], floats: values)
    }

    func save(_ image: RGBImage, _ name: String) throws -> String {
        let tensor = Tensor(shape: [image.height, image.width, 3], integers: image.pixels.map(Int64.init))
        let url = directory.appendingPathComponent(name)
        try NumpyFile.write(tensor, to: url)
        return url.path
    }

    func save(_ tensor: Tensor, _ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try NumpyFile.write(tensor, to: url)
        return url.path
    }

    func load(_ name: String) throws -> [Int] {
        try NumpyFile.read(contentsOf: directory.appendingPathComponent(name)).integers.map { Int($0) }
    }

    func assertClose(_ actual: [UInt8], _ expected: [Int], tolerance: Int, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let differences = zip(actual, expected).map { abs(Int($0) - $1) }
        let worst = differences.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): worst difference \(worst) levels, "
                                     + "\(differences.filter { $0 > 0 }.count) of \(differences.count) values differ",
                                 file: file, line: line)
    }

    // MARK: - pytorch-grad-cam

    /// `show_cam_on_image(img, mask, use_rgb=True, image_weight=w)` as pytorch-grad-cam
    /// publishes it, with cv2.applyColorMap's JET, to ±1 level.
    func testCAMBlendMatchesShowCamOnImage() throws {
        let image = RenderOverlayTests.syntheticImage()
        let cam = RenderOverlayTests.syntheticMap()
        let imagePath = try save(image, "image.npy"), camPath = try save(cam, "cam.npy")
        let weights: [Float] = [0.5, 0.2, 0.85]
        _ = try TestData.python("""
        import numpy as np, cv2
        img = np.float32(np.load("\(imagePath)")) / 255
        mask = np.load("\(camPath)")[0, 0]
        for index, image_weight in enumerate(\(weights)):
            heatmap = cv2.applyColorMap(np.uint8(255 * mask), cv2.COLORMAP_JET)
            heatmap = cv2.cvtColor(heatmap, cv2.COLOR_BGR2RGB)
            heatmap = np.float32(heatmap) / 255
            cam = (1 - image_weight) * heatmap + image_weight * img
            cam = cam / np.max(cam)
            np.save(f"\(directory.path)/expected-{index}.npy", np.uint8(255 * cam).astype(np.int64))
        """, modules: ["numpy", "cv2"])
        for (index, weight) in weights.enumerated() {
            let overlay = try Overlay.cam(cam, on: image, imageWeight: weight)
            assertClose(overlay.pixels, try load("expected-\(index).npy"), tolerance: 1, "show_cam_on_image, w = \(weight)")
        }
    }

    func testCAMBlendInClosedForm() throws {
        // One pixel: jet at index ⌊255·0.5⌋ = 127 is (126, 255, 130) in RGB; with a gray 100
        // image and w = 0.5 the blend is ((126 + 100)/2, (255 + 100)/2, (130 + 100)/2)/255, and
        // its max is 177.5/255, so the output is uint8(255·c/177.5·255/255).
        let image = RGBImage(width: 1, height: 1, pixels: [100, 100, 100])
        let overlay = try Overlay.cam(Tensor(shape: [1, 1], floats: [0.5]), on: image)
        XCTAssertEqual(Colormap.jet.color(atIndex: 127), RGBColor(red: 126, green: 255, blue: 130))
        XCTAssertEqual(overlay.pixels, [UInt8(255 * 113 / 177.5), 255, UInt8(255 * 115 / 177.5)])
    }

    func testCAMBadInputsAreTypedErrors() throws {
        let image = RenderOverlayTests.syntheticImage()
        XCTAssertThrowsError(try Overlay.cam(RenderOverlayTests.syntheticMap(width: 36), on: image)) {
            let error = $0 as! CNNVizError
            XCTAssertEqual(error.code, .shapeMismatch)
            XCTAssertTrue(error.message.contains("36×23") && error.message.contains("37×23"), error.message)
        }
        XCTAssertThrowsError(try Overlay.cam(RenderOverlayTests.syntheticMap(channels: 2), on: image)) {
            XCTAssertEqual(($0 as! CNNVizError).code, .shapeMismatch)
        }
        XCTAssertThrowsError(try Overlay.cam(RenderOverlayTests.syntheticMap(), on: image, imageWeight: 1.5)) {
            XCTAssertEqual(($0 as! CNNVizError).code, .invalidArgument)
        }
        XCTAssertThrowsError(try Overlay.cam(RenderOverlayTests.syntheticMap(), on: image, batchIndex: 1)) {
            XCTAssertEqual(($0 as! CNNVizError).code, .invalidArgument)
        }
    }

    // MARK: - Captum

    func testCumulativeSumThresholdInClosedForm() {
        // Sorted 0, 1, 2, 3, 4: running sums 0, 1, 3, 6, 10. 98 % of 10 is 9.8, first reached at 4;
        // 50 % is 5, first reached at 3; 0 % is reached at once, by 0.
        XCTAssertEqual(NormalizedAttribution.cumulativeSumThreshold([3, 0, 4, 1, 2], percentile: 98), 4)
        XCTAssertEqual(NormalizedAttribution.cumulativeSumThreshold([3, 0, 4, 1, 2], percentile: 50), 3)
        XCTAssertEqual(NormalizedAttribution.cumulativeSumThreshold([3, 0, 4, 1, 2], percentile: 0), 0)
    }

    func testNormalisationBySignInClosedForm() throws {
        // a = [−4, −1, 0, 2, 8]; |a| sums to 15, 98 % of it first reached by 8 (sorted 0 1 2 4 8).
        let attribution = Tensor(shape: [1, 5], floats: [-4, -1, 0, 2, 8])
        let all = try NormalizedAttribution(attribution, sign: .all)
        XCTAssertEqual(all.threshold, 8)
        XCTAssertEqual(all.values, [-0.5, -0.125, 0, 0.25, 1])
        let positive = try NormalizedAttribution(attribution, sign: .positive)   // 0 0 0 2 8 → 8
        XCTAssertEqual(positive.values, [0, 0, 0, 0.25, 1])
        let negative = try NormalizedAttribution(attribution, sign: .negative)   // 4 1 0 0 0 → −4
        XCTAssertEqual(negative.threshold, -4)
        XCTAssertEqual(negative.values, [1, 0.25, 0, 0, 0])
        // |a| sorted 0 1 2 4 8, running sums 0 1 3 7 15: 40 % of 15 is 6, first reached by 4.
        let magnitude = try NormalizedAttribution(attribution, sign: .absoluteValue, outlierPercent: 60)
        XCTAssertEqual(magnitude.values, [1, 0.25, 0, 0.5, 1])
        let zero = try NormalizedAttribution(Tensor.zeros([2, 2]), sign: .positive)
        XCTAssertEqual(zero.values, [0, 0, 0, 0])
        // Channels are summed first: [1, −1] + [2, 5] = [3, 4], scaled by 4.
        let channels = try NormalizedAttribution(Tensor(shape: [2, 1, 2], floats: [1, -1, 2, 5]), sign: .all)
        XCTAssertEqual(channels.values, [0.75, 1])
    }

    /// Captum's `visualize_image_attr` views, from its published definitions in NumPy with
    /// matplotlib's colormaps and Normalize: heat map, blended heat map, masked image and alpha
    /// scaling, for every sign each accepts.
    func testCaptumViewsMatchTheirDefinitions() throws {
        let image = RenderOverlayTests.syntheticImage()
        let attribution = RenderOverlayTests.syntheticMap(signed: true, channels: 3)
        let imagePath = try save(image, "image.npy"), attributionPath = try save(attribution, "attr.npy")
        var cases: [(AttributionView, AttributionSign, String, Int)] = []
        for sign in AttributionSign.allCases {
            cases.append((.heatMap, sign, "heat_map", 0))
            cases.append((.blendedHeatMap, sign, "blended_heat_map", 1))
            if sign != .all {
                cases.append((.maskedImage, sign, "masked_image", 0))
                cases.append((.alphaScaling, sign, "alpha_scaling", 0))
            }
        }
        let list = cases.map { "(\"\($0.2)\", \"\($0.1.rawValue)\")" }.joined(separator: ", ")
        _ = try TestData.python("""
        import numpy as np
        from matplotlib import colormaps
        from matplotlib.colors import LinearSegmentedColormap, Normalize
        image = np.load("\(imagePath)").astype(np.uint8)
        attr = np.transpose(np.load("\(attributionPath)")[0], (1, 2, 0))      # HWC, as Captum wants
        outlier_perc = 2

        def threshold_of(values, percentile):
            sorted_vals = np.sort(values.flatten())
            cum_sums = np.cumsum(sorted_vals)
            return sorted_vals[np.where(cum_sums >= cum_sums[-1] * 0.01 * percentile)[0][0]]

        def normalized(sign):
            a = np.sum(attr, axis=2)
            if sign == "all":
                t = threshold_of(np.abs(a), 100.0 - outlier_perc)
            elif sign == "positive":
                a = (a > 0) * a; t = threshold_of(a, 100.0 - outlier_perc)
            elif sign == "negative":
                a = (a < 0) * a; t = -1 * threshold_of(np.abs(a), 100.0 - outlier_perc)
            else:
                a = np.abs(a); t = threshold_of(a, 100.0 - outlier_perc)
            return np.clip(a / t, -1, 1)

        cmaps = {"all": LinearSegmentedColormap.from_list("RdWhGn", ["red", "white", "green"]),
                 "positive": colormaps["Greens"], "negative": colormaps["Reds"], "absolute_value": colormaps["Blues"]}
        for method, sign in [\(list)]:
            norm = normalized(sign)
            vmin, vmax = (-1, 1) if sign == "all" else (0, 1)
            heat = cmaps[sign](Normalize(vmin, vmax)(norm))[..., :3]
            alpha = np.full(norm.shape, 255)
            if method == "heat_map":
                rgb = np.round(heat * 255)
            elif method == "blended_heat_map":
                gray = colormaps["gray"](Normalize()(np.mean(image, axis=2)))[..., :3]
                rgb = np.round((0.5 * heat + 0.5 * gray) * 255)
            elif method == "masked_image":
                rgb = np.clip((image * np.expand_dims(norm, 2)).astype(int), 0, 255)
            else:
                rgb = image
                alpha = np.clip((np.expand_dims(norm, 2) * 255).astype(int), 0, 255)[..., 0]
            rgba = np.concatenate([rgb, alpha[..., None]], axis=2).astype(np.int64)
            np.save(f"\(directory.path)/{method}-{sign}.npy", rgba)
        """, modules: ["numpy", "matplotlib"])
        for (view, sign, method, tolerance) in cases {
            let drawn = try Overlay.attribution(attribution, on: image, view: view, sign: sign)
            assertClose(drawn.pixels, try load("\(method)-\(sign.rawValue).npy"), tolerance: tolerance,
                        "\(method), sign \(sign)")
        }
    }

    func testCaptumViewsRefuseWhatCaptumRefuses() throws {
        let image = RenderOverlayTests.syntheticImage()
        let attribution = RenderOverlayTests.syntheticMap(signed: true, channels: 3)
        for view in [AttributionView.maskedImage, .alphaScaling] {
            XCTAssertThrowsError(try Overlay.attribution(attribution, on: image, view: view, sign: .all)) {
                XCTAssertEqual(($0 as! CNNVizError).code, .invalidArgument)
            }
        }
        XCTAssertThrowsError(try Overlay.attribution(attribution, on: nil, view: .blendedHeatMap)) {
            XCTAssertEqual(($0 as! CNNVizError).code, .invalidArgument)
        }
        XCTAssertNoThrow(try Overlay.attribution(attribution, on: nil, view: .heatMap, sign: .all))
        XCTAssertThrowsError(try Overlay.attribution(attribution, on: image, view: .heatMap, outlierPercent: 101))
    }
}
