import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// The scene generator against closed forms: each shape's mask area against its geometric
/// area, boxes against masks, the drawn colour under the mask, determinism, and the JSON that
/// `shapes generate` writes, read back by an independent NumPy/Pillow decoder.
final class ShapesSceneTests: EngineTestCase {
    /// The area of each shape, from its construction in `ShapeClass` (radius r).
    static func area(_ shape: ShapeClass, radius r: Double) -> Double {
        switch shape {
        case .circle: return Double.pi * pow(0.85 * r, 2)
        case .square: return 2 * r * r
        case .triangle: return 3 * 3.0.squareRoot() / 4 * r * r
        case .star: return 5 * r * (0.45 * r) * sin(Double.pi / 5)
        case .cross:
            let arm = 0.95 * r, width = 0.32 * r
            return 8 * arm * width - 4 * width * width
        case .pentagon: return 5.0 / 2 * r * r * sin(2 * Double.pi / 5)
        }
    }

    func testMaskAreasMatchTheShapesGeometry() throws {
        let scenes = try SceneGenerator(seed: 11, twoObjectFraction: 0.5).scenes(0..<120)
        var seen = Set<ShapeClass>()
        for scene in scenes {
            for object in scene.objects {
                seen.insert(object.shape)
                let count = Double(object.mask.filter { $0 }.count)
                let expected = Self.area(object.shape, radius: object.radius)
                // Half-coverage thresholding errs by a fraction of the perimeter; 5% covers it at r ≥ 10.
                XCTAssertEqual(count, expected, accuracy: 0.05 * expected + 3,
                               "scene \(scene.index): \(object.shape) r=\(object.radius) covers \(count) pixels, geometry says \(expected)")
            }
        }
        XCTAssertEqual(seen, Set(ShapeClass.allCases), "120 scenes should show every class")
    }

    func testBoxesAreTheTightBoundsOfTheMasksAndObjectsDoNotOverlap() throws {
        let scenes = try SceneGenerator(seed: 12).scenes(0..<40, objectCount: 2)
        for scene in scenes {
            XCTAssertEqual(scene.objects.count, 2)
            XCTAssertNotEqual(scene.objects[0].shape, scene.objects[1].shape, "two-object scenes hold two classes")
            for object in scene.objects {
                let size = scene.image.width
                let xs = object.mask.indices.filter { object.mask[$0] }.map { $0 % size }
                let ys = object.mask.indices.filter { object.mask[$0] }.map { $0 / size }
                XCTAssertEqual(object.box, BoundingBox(x0: xs.min()!, y0: ys.min()!, x1: xs.max()! + 1, y1: ys.max()! + 1))
                // The box is centred on the object within a pixel or two (a triangle's centroid is its centre here).
                XCTAssertLessThanOrEqual(Double(object.box.x0), object.centerX)
                XCTAssertGreaterThanOrEqual(Double(object.box.x1), object.centerX)
            }
            let overlap = zip(scene.objects[0].mask, scene.objects[1].mask).filter { $0 && $1 }.count
            XCTAssertEqual(overlap, 0, "scene \(scene.index): the objects overlap by \(overlap) pixels")
        }
    }

    func testMaskedPixelsShowTheObjectsColour() throws {
        let scenes = try SceneGenerator(seed: 13).scenes(0..<30)
        for scene in scenes {
            let object = scene.objects[0]
            let size = scene.image.width
            // Interior pixels only: a pixel whose 4 neighbours are also covered is not antialiased.
            let interior = object.mask.indices.filter { index in
                let x = index % size, y = index / size
                return object.mask[index] && x > 0 && y > 0 && x < size - 1 && y < size - 1
                    && [index - 1, index + 1, index - size, index + size].allSatisfy { object.mask[$0] }
            }
            XCTAssertGreaterThan(interior.count, 20)
            for channel in 0..<3 {
                let mean = interior.map { Double(scene.image.pixels[3 * $0 + channel]) }.reduce(0, +) / Double(interior.count)
                // Noise (±6%) averages out; the texture (±6%) may not, and clipping at 0/255 shifts the mean.
                XCTAssertEqual(mean, Double(object.color[channel]), accuracy: 20,
                               "scene \(scene.index) channel \(channel): mean \(mean) under the mask, object colour \(object.color[channel])")
            }
        }
    }

    func testScenesAreDeterministicAndIndependentOfOrder() throws {
        let generator = SceneGenerator(seed: 14, twoObjectFraction: 0.3)
        let parallel = try generator.scenes(0..<16)
        for index in [15, 3, 0, 9] {
            let alone = try generator.scene(index)
            XCTAssertEqual(alone.image.pixels, parallel[index].image.pixels)
            XCTAssertEqual(alone.objects.map(\.mask), parallel[index].objects.map(\.mask))
        }
        let other = try SceneGenerator(seed: 15).scene(0)
        XCTAssertNotEqual(other.image.pixels, parallel[0].image.pixels, "another seed gives another scene")
        let twoObject = parallel.filter { $0.objects.count == 2 }.count
        XCTAssertTrue((1...12).contains(twoObject), "30% two-object scenes expected, found \(twoObject) of 16")
    }

    func testRunLengthMasksRoundTrip() {
        let mask: [Bool] = [true, true, false, false, false, true, false, true]
        let encoded = RunLengthMask(mask, width: 4)
        XCTAssertEqual(encoded.counts, [0, 2, 3, 1, 1, 1])
        XCTAssertEqual(encoded.height, 2)
        XCTAssertEqual(encoded.mask, mask)
    }

    /// `shapes generate` output read by Pillow and NumPy: every PNG holds the scene, each RLE
    /// mask decodes to the object's pixels (its box, its colour, its geometric area).
    func testGenerateCommandWritesPNGsAndAnnotationsThatAnIndependentReaderAgreesWith() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnviz-shapes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, _, errors) = try TestData.runBinary(["shapes", "generate", "--count", "12", "--seed", "21", "--two-objects", "0.5",
                                                          "--out", directory.path])
        XCTAssertEqual(status, 0, errors)
        let script = """
        import json, math, sys, numpy as np
        from PIL import Image
        root = sys.argv[1] if len(sys.argv) > 1 else '\(directory.path)'
        data = json.load(open(root + '/scenes.json'))
        assert data['classes'] == ['circle', 'square', 'triangle', 'star', 'cross', 'pentagon'], data['classes']
        area = {'circle': lambda r: math.pi * (0.85 * r) ** 2, 'square': lambda r: 2 * r * r,
                'triangle': lambda r: 3 * math.sqrt(3) / 4 * r * r, 'star': lambda r: 5 * r * 0.45 * r * math.sin(math.pi / 5),
                'cross': lambda r: 8 * 0.95 * r * 0.32 * r - 4 * (0.32 * r) ** 2, 'pentagon': lambda r: 2.5 * r * r * math.sin(2 * math.pi / 5)}
        checked = 0
        for scene in data['scenes']:
            image = np.asarray(Image.open(root + '/' + scene['file']).convert('RGB')).astype(float)
            assert image.shape == (data['size'], data['size'], 3)
            assert scene['labels'] == sorted(scene['labels'], key=data['classes'].index)
            for obj in scene['objects']:
                rle = obj['mask']
                flat = np.zeros(rle['width'] * rle['height'], bool)
                position, value = 0, False
                for count in rle['counts']:
                    flat[position:position + count] = value
                    position += count
                    value = not value
                assert position == flat.size
                mask = flat.reshape(rle['height'], rle['width'])
                ys, xs = np.nonzero(mask)
                box = obj['box']
                assert [box['x0'], box['y0'], box['x1'], box['y1']] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], (box, scene['file'])
                expected = area[obj['label']](obj['radius'])
                assert abs(mask.sum() - expected) <= 0.05 * expected + 3, (obj['label'], mask.sum(), expected)
                interior = mask.copy()
                interior[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
                mean = image[interior].mean(axis=0)
                assert np.all(np.abs(mean - np.array(obj['color'])) <= 20), (scene['file'], mean, obj['color'])
                checked += 1
        print(checked)
        """
        let checked = try TestData.python(script, modules: ["numpy", "PIL"])
        XCTAssertGreaterThanOrEqual(Int(checked) ?? 0, 12, "objects checked: \(checked)")
    }
}
