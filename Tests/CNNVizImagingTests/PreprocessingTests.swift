import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Presets and overrides against the same steps written in NumPy and Pillow, the overrides'
/// text forms, and the check against a model's declared input shape.
final class PreprocessingTests: EngineTestCase {
    /// After normalisation; one pixel level is 1/255/0.229 ≈ 0.017 for imagenet and 1 for caffe,
    /// so this holds only when every resized pixel is exactly Pillow's.
    static let tolerance: Float = 1e-3

    static let photos = ["skimage_chelsea.png", "skimage_coffee.png", "winml_kitten_224.png", "winml_cat.jpg", "winml_dog.jpg",
                         "winml_mnist_28.png"]

    /// The recipes, as torchvision and the Caffe pipeline define them, written out without torch.
    static let referenceScript = """
    import json, sys
    import numpy as np
    from PIL import Image

    def resize_short(img, side, rounded):            # torchvision Resize(int); Caffe rounds the long side
        w, h = img.size
        short, long = min(w, h), max(w, h)
        new_long = round(side * long / short) if rounded else int(side * long / short)
        return img.resize((side, new_long) if w <= h else (new_long, side), Image.BILINEAR)

    def centre_crop(img, cw, ch):                   # torchvision CenterCrop
        w, h = img.size
        top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
        return img.crop((left, top, left + cw, top + ch))

    def chw(x):
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)

    def imagenet(img):
        x = np.asarray(centre_crop(resize_short(img, 256, False), 224, 224), np.float32) / 255
        return chw((x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32))

    def caffe(img):
        x = np.asarray(centre_crop(resize_short(img, 256, True), 224, 224), np.float32)[:, :, ::-1]
        return chw(x - np.array([104, 117, 123], np.float32))

    def mnist(img):
        return np.asarray(img.convert("L").resize((28, 28), Image.BILINEAR), np.float32)[None, None]

    def custom(img):                                 # size 300, crop 256x200, BGR, scale 1/255, mean 0.5, std 0.25
        x = np.asarray(centre_crop(resize_short(img, 300, False), 256, 200), np.float32)[:, :, ::-1] / 255
        return chw((x - 0.5) / 0.25)

    for npy, out in json.loads(sys.argv[1]):
        img = Image.fromarray(np.load(npy))
        for name, recipe in [("imagenet", imagenet), ("caffe", caffe), ("mnist", mnist), ("custom", custom)]:
            np.save(f"{out}.{name}.npy", recipe(img))
    """

    /// Both sides start from Pillow's decoded pixels, so this measures preprocessing alone; for
    /// the PNGs, cnn-viz's own decode (exact) is checked end to end too.
    func testPresetsMatchNumPyAndPillow() throws {
        let decoded = TestData.referenceDirectory.appendingPathComponent("decoded")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-preprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pairs = try Self.photos.map { name in
            [try TestData.require(decoded.appendingPathComponent("\(name).npy")).path, scratch.appendingPathComponent(name).path]
        }
        let argument = String(decoding: try JSONEncoder().encode(pairs), as: UTF8.self)
        _ = try TestData.python("import sys\nsys.argv = ['reference', '''\(argument)''']\n" + Self.referenceScript, modules: ["numpy", "PIL"])

        let custom = try Preprocessing.imagenet.overridden(size: "300", crop: "256x200", mean: "0.5", std: "0.25", bgr: true, scale: "1/255")
        let recipes: [(String, Preprocessing)] = [("imagenet", .imagenet), ("caffe", .caffe), ("mnist", .mnist), ("custom", custom)]
        var report = [String]()
        for (name, pair) in zip(Self.photos, pairs) {
            let pillowPixels = try TestImages.image(npy: URL(fileURLWithPath: pair[0]))
            let ownDecode = try ImageDecoder.decode(contentsOf: try TestData.image(name))
            for (recipe, preprocessing) in recipes {
                let expected = try NumpyFile.read(contentsOf: URL(fileURLWithPath: "\(pair[1]).\(recipe).npy"))
                let ours = try preprocessing.tensor(from: pillowPixels)
                XCTAssertEqual(ours.shape, expected.shape, "\(recipe) on \(name)")
                guard ours.shape == expected.shape else { continue }
                let difference = zip(ours.floats, expected.floats).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(difference, Self.tolerance, "\(recipe) on \(name), from Pillow's pixels")
                let endToEnd = zip(try preprocessing.tensor(from: ownDecode).floats, expected.floats).map { abs($0 - $1) }.max() ?? 0
                if name.hasSuffix(".png") { XCTAssertLessThanOrEqual(endToEnd, Self.tolerance, "\(recipe) on \(name), own decode") }
                report.append("\(recipe)/\(name) \(difference) (own decode \(endToEnd))")
            }
        }
        print("max |cnn-viz − NumPy/Pillow|:", report.joined(separator: ", "))
    }

    func testPresetsAndTheirDescriptions() throws {
        XCTAssertEqual(try Preprocessing.preset(named: "caffe"), .caffe)
        XCTAssertEqual(Preprocessing.imagenet.description,
                       "imagenet: resize the short side to 256, centre-crop 224×224, RGB × 0.003921569, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]")
        XCTAssertThrowsError(try Preprocessing.preset(named: "tensorflow")) { error in
            XCTAssertTrue("\(error)".contains("imagenet, caffe, mnist, cifar, inception, none"), "\(error)")
        }
    }

    func testOverridesFromText() throws {
        let p = try Preprocessing.imagenet.overridden(size: "320x240", crop: "none", mean: "1, 2, 3", std: "4", bgr: true, scale: "2")
        XCTAssertEqual(p.resize, .exact(ImageSize(width: 320, height: 240)))
        XCTAssertNil(p.crop)
        XCTAssertEqual(p.mean, [1, 2, 3])
        XCTAssertEqual(p.std, [4])
        XCTAssertEqual(p.channels, .bgr)
        XCTAssertEqual(p.scale, 2)
        XCTAssertEqual(try Preprocessing.none.overridden(size: "128", crop: "100").resize, .shortSide(128))
        XCTAssertEqual(try Preprocessing.caffe.overridden(scale: "1/255").scale, 1 / 255, accuracy: 1e-9)

        let bad: [(() throws -> Preprocessing, [String])] = [
            ({ try Preprocessing.imagenet.overridden(size: "big") }, ["--size 'big'", "W×H"]),
            ({ try Preprocessing.imagenet.overridden(crop: "12x") }, ["--crop '12x'"]),
            ({ try Preprocessing.imagenet.overridden(mean: "0.5,zero") }, ["--mean '0.5,zero'"]),
            ({ try Preprocessing.imagenet.overridden(mean: "0.5,0.5") }, ["mean (--mean) has 2 values", "expected 1 or 3"]),
            ({ try Preprocessing.imagenet.overridden(std: "1,0,1") }, ["std (--std) [1.0, 0.0, 1.0] must not contain 0"]),
            ({ try Preprocessing.imagenet.overridden(scale: "1/0") }, ["--scale '1/0'"]),
            ({ try Preprocessing.imagenet.overridden(size: "0") }, ["at least 1, found 0"]),
            ({ try Preprocessing.mnist.overridden(bgr: true) }, ["--bgr", "gray"]),
        ]
        for (make, fragments) in bad {
            XCTAssertThrowsError(try make()) { error in
                XCTAssertEqual((error as? CNNVizError)?.code, .invalidArgument)
                for fragment in fragments { XCTAssertTrue("\(error)".contains(fragment), "'\(error)' should mention '\(fragment)'") }
            }
        }
    }

    func testCropLargerThanTheImageIsRefused() throws {
        let image = RGBImage(width: 50, height: 40, pixels: [UInt8](repeating: 9, count: 6000))
        let p = try Preprocessing.none.overridden(crop: "64")
        XCTAssertThrowsError(try p.tensor(from: image)) { error in
            XCTAssertTrue("\(error)".contains("the crop (--crop) 64×64 is larger than the 50×40 image"), "\(error)")
        }
        XCTAssertEqual(try Preprocessing.none.overridden(crop: "32x16").tensor(from: image).shape, [1, 3, 16, 32])
    }

    func testCheckAgainstTheModelInput() throws {
        let imagenetInput = ValueInfo(name: "data_0", elementType: .float32, shape: [1, 3, 224, 224])
        let mnistInput = ValueInfo(name: "Input3", elementType: .float32, shape: [nil, 1, 28, 28])
        XCTAssertNoThrow(try Preprocessing.imagenet.check(against: imagenetInput))
        XCTAssertNoThrow(try Preprocessing.caffe.check(against: imagenetInput))
        XCTAssertNoThrow(try Preprocessing.mnist.check(against: mnistInput))
        XCTAssertNoThrow(try Preprocessing.imagenet.check(against: ValueInfo(name: "x", elementType: .float16, shape: [nil, 3, nil, nil])))

        func expectMismatch(_ p: Preprocessing, _ input: ValueInfo, _ fragments: [String], line: UInt = #line) {
            XCTAssertThrowsError(try p.check(against: input), line: line) { error in
                XCTAssertEqual((error as? CNNVizError)?.code, .shapeMismatch, line: line)
                for fragment in fragments {
                    XCTAssertTrue("\(error)".contains(fragment), "'\(error)' should mention '\(fragment)'", line: line)
                }
            }
        }
        expectMismatch(.mnist, imagenetInput, ["'data_0' [1,3,224,224]", "expects 3 channels", "gives 1 (GRAY)", "preprocessing mnist:"])
        expectMismatch(.imagenet, mnistInput, ["'Input3' [?,1,28,28]", "expects 1 channel ", "--preprocess mnist"])
        expectMismatch(.caffe, ValueInfo(name: "data", elementType: .float32, shape: [1, 3, 227, 227]),
                       ["expects 227×227 pixels", "gives 224×224", "--size 259 --crop 227", "--resize-only"])
        expectMismatch(.none, imagenetInput, ["expects 224×224 pixels", "each image's own size", "--resize-only"])
        expectMismatch(.imagenet, ValueInfo(name: "ids", elementType: .int64, shape: [1, 3, 224, 224]), ["INT64", "not floating-point"])
        expectMismatch(.imagenet, ValueInfo(name: "flat", elementType: .float32, shape: [1, 784]), ["rank 2", "[N, C, H, W]"])
        expectMismatch(.imagenet, ValueInfo(name: "pair", elementType: .float32, shape: [2, 3, 224, 224]), ["fixed batch of 2"])

        // An image-sized preprocessing passes for an image of the right size, per image.
        let square = RGBImage(width: 224, height: 224, pixels: [UInt8](repeating: 1, count: 224 * 224 * 3))
        XCTAssertEqual(try Preprocessing.none.tensor(from: square, for: imagenetInput).shape, [1, 3, 224, 224])
        let small = RGBImage(width: 100, height: 100, pixels: [UInt8](repeating: 1, count: 30000))
        XCTAssertThrowsError(try Preprocessing.none.tensor(from: small, for: imagenetInput)) { error in
            XCTAssertTrue("\(error)".contains("gives 100×100"), "\(error)")
        }
    }

    /// The real models' declared inputs agree with the presets that the README pairs them with.
    func testRealModelInputs() throws {
        let squeezenet = try Session(contentsOf: try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx"))
        XCTAssertNoThrow(try Preprocessing.caffe.check(against: squeezenet.graph.inputs[0]))
        XCTAssertThrowsError(try Preprocessing.mnist.check(against: squeezenet.graph.inputs[0]))
        let mnist = try Session(contentsOf: try TestData.model("winml_mnist.onnx"))
        XCTAssertNoThrow(try Preprocessing.mnist.check(against: mnist.graph.inputs[0]))
        XCTAssertThrowsError(try Preprocessing.imagenet.check(against: mnist.graph.inputs[0]))
    }
}
