import CNNVizRender
import CNNVizTestSupport
import Foundation
import XCTest

/// The colormap tables against OpenCV and matplotlib, asked at test time: the values at
/// 0, 0.25, 0.5, 0.75 and 1, whole tables, and the three index conventions.
final class RenderColormapTests: EngineTestCase {
    /// Python that defines `table(name)`: the reference 256×3 uint8 table for each map, from
    /// the libraries themselves (matplotlib floats to the nearest byte, OpenCV's JET as is).
    static let referenceTables = """
    import json, numpy as np, cv2
    from matplotlib import colormaps
    from matplotlib.colors import LinearSegmentedColormap
    def mpl(name):
        if name == "RdWhGn":
            return LinearSegmentedColormap.from_list("RdWhGn", ["red", "white", "green"])
        return colormaps[name]
    def table(name, indices):
        indices = np.asarray(indices)
        if name == "jet":
            bgr = cv2.applyColorMap(indices.astype(np.uint8).reshape(-1, 1), cv2.COLORMAP_JET)
            return bgr[:, 0, ::-1].astype(int)
        return np.round(mpl(name)(indices)[:, :3] * 255).astype(int)

    """

    let names = ["jet", "turbo", "viridis", "inferno", "magma", "plasma", "gray", "RdBu_r", "RdWhGn",
                 "Greens", "Reds", "Blues"]

    func python(_ script: String) throws -> Any {
        let output = try TestData.python(RenderColormapTests.referenceTables + script,
                                         modules: ["numpy", "cv2", "matplotlib"])
        return try JSONSerialization.jsonObject(with: Data(output.utf8))
    }

    func testEveryMapIsBuiltInAndNamed() {
        XCTAssertEqual(Colormap.all.map(\.name), names)
        for name in names { XCTAssertEqual(Colormap.named(name)?.name, name) }
        XCTAssertEqual(Colormap.named("redBlue"), .redBlue)
        XCTAssertNil(Colormap.named("parula"))
        XCTAssertEqual(Colormap.viridis.reversed.reversed, .viridis)
        XCTAssertEqual(Colormap.viridis.reversed.color(atIndex: 0), Colormap.viridis.color(atIndex: 255))
    }

    /// round(255·v) for v = 0, 0.25, 0.5, 0.75, 1 is 0, 64, 128, 191, 255; the colours there
    /// are the libraries' own table entries.
    func testQuarterPointsAreThePublishedValues() throws {
        let inputs: [Float] = [0, 0.25, 0.5, 0.75, 1]
        let reference = try python("""
        inputs = [0, 0.25, 0.5, 0.75, 1]
        indices = [int(np.floor(v * 255 + 0.5)) for v in inputs]
        print(json.dumps({n: table(n, indices).tolist() for n in \(names)}))
        """) as! [String: [[Int]]]
        for map in Colormap.all {
            let expected = try XCTUnwrap(reference[map.name], map.name)
            for (input, rgb) in zip(inputs, expected) {
                let color = map.color(at: input)
                XCTAssertEqual([Int(color.red), Int(color.green), Int(color.blue)], rgb, "\(map.name) at \(input)")
            }
        }
        XCTAssertEqual(inputs.map { Colormap.index(for: $0) }, [0, 64, 128, 191, 255])
    }

    func testWholeTablesMatchTheLibraries() throws {
        let reference = try python("""
        print(json.dumps({n: table(n, range(256)).ravel().tolist() for n in \(names)}))
        """) as! [String: [Int]]
        for map in Colormap.all {
            XCTAssertEqual(map.table.map(Int.init), reference[map.name], map.name)
        }
    }

    /// `.truncating` is `cv2.applyColorMap(np.uint8(255 * v))`; `.matplotlib` is `cmap(v)` for a
    /// float v; both on float32 values including ones that land exactly on and next to the
    /// boundaries between entries.
    func testQuantizationConventionsMatchOpenCVAndMatplotlib() throws {
        var values: [Float] = [0, 1, 0.5, 0.25, 0.75, -0.2, 1.7, 1.0 / 255, 2.0 / 255, 254.0 / 255, 1.0 / 256, 255.0 / 256]
        values += values.map { $0.nextUp } + values.map { $0.nextDown }
        var generator = SystemRandomNumberGenerator()
        values += (0..<200).map { _ in Float.random(in: 0...1, using: &generator) }
        let list = values.map { "np.float32('\($0)')" }.joined(separator: ", ")
        let reference = try python("""
        v = np.array([\(list)], dtype=np.float32)
        c = np.clip(v, 0, 1)
        bgr = cv2.applyColorMap(np.uint8(255 * c).reshape(-1, 1), cv2.COLORMAP_JET)[:, 0, ::-1]
        viridis = np.round(colormaps["viridis"](v)[:, :3] * 255)
        print(json.dumps({"opencv": bgr.astype(int).tolist(), "matplotlib": viridis.astype(int).tolist()}))
        """) as! [String: [[Int]]]
        for (index, value) in values.enumerated() {
            let jet = Colormap.jet.color(at: value, quantization: .truncating)
            XCTAssertEqual([Int(jet.red), Int(jet.green), Int(jet.blue)], reference["opencv"]![index], "jet at \(value)")
            let viridis = Colormap.viridis.color(at: value, quantization: .matplotlib)
            XCTAssertEqual([Int(viridis.red), Int(viridis.green), Int(viridis.blue)], reference["matplotlib"]![index],
                           "viridis at \(value)")
        }
    }

    func testIndexConventionsInClosedForm() {
        XCTAssertEqual(Colormap.index(for: 0.5, quantization: .nearest), 128)     // 127.5 rounds up
        XCTAssertEqual(Colormap.index(for: 0.5, quantization: .truncating), 127)
        XCTAssertEqual(Colormap.index(for: 0.5, quantization: .matplotlib), 128)
        XCTAssertEqual(Colormap.index(for: 0.75, quantization: .nearest), 191)
        XCTAssertEqual(Colormap.index(for: 0.75, quantization: .matplotlib), 192)
        XCTAssertEqual(Colormap.index(for: 1, quantization: .matplotlib), 255)
        XCTAssertEqual(Colormap.index(for: -3), 0)
        XCTAssertEqual(Colormap.index(for: 7), 255)
        XCTAssertEqual(Colormap.index(for: .nan), 0)
    }
}
