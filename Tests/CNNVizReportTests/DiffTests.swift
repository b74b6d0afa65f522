import CNNVizImaging
import CNNVizReport
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `cnn-viz diff` in its three modes, on the real SqueezeNet models in ../shared/data.
final class DiffTests: EngineTestCase {
    func diff(_ arguments: [String]) throws -> (Int32, [String: Any]) {
        let (status, data, message) = try TestData.runBinary(["diff"] + arguments + ["--json"])
        guard let report = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            XCTFail("no JSON from diff (status \(status)): \(message)")
            return (status, [:])
        }
        return (status, report)
    }

    /// The fp16 SqueezeNet against its lossless fp32 widening: every layer matched by name and
    /// SQNR > 60 dB (here identical: caffe inputs are integers, exact in fp16). Rounding every
    /// activation to fp16 gives finite SQNRs that fall with depth.
    func testFloat16AgainstFloat32() throws {
        let fp16 = try TestData.model("winml_squeezenet1.1_fp16.onnx"), fp32 = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let image = try TestData.image("skimage_chelsea.png")
        let arguments = [image.path, "--model", fp16.path, "--model-b", fp32.path, "--preprocess", "caffe"]
        let (status, report) = try diff(arguments)
        XCTAssertEqual(status, 0)
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 66)
        for layer in layers {
            XCTAssertNil(layer["matched"], "\(layer["name"]!) should match by name")
            if let sqnr = layer["sqnr_db"] as? Double { XCTAssertGreaterThan(sqnr, 60, "\(layer["name"]!)") }
        }
        let (simulatedStatus, simulated) = try diff(arguments + ["--simulate-fp16", "--atol", "1", "--rtol", "0.1"])
        XCTAssertEqual(simulatedStatus, 0)
        let sqnr = try XCTUnwrap(simulated["layers"] as? [[String: Any]]).map { $0["sqnr_db"] as? Double }
        XCTAssertTrue(sqnr.allSatisfy { $0 != nil && $0!.isFinite }, "every layer differs once rounded to fp16")
        let values = sqnr.map { $0! }, third = values.count / 3
        let early = values.prefix(third).reduce(0, +) / Double(third), late = values.suffix(third).reduce(0, +) / Double(third)
        print(String(format: "simulated fp16: mean SQNR %.1f dB over the first third of the layers, %.1f dB over the last", early, late))
        XCTAssertGreaterThan(early, late + 3)
    }

    /// Ours against onnxruntime's dump of every tensor passes at atol 1e-4; corrupting one file
    /// makes exactly that layer the first failure, with exit status 3.
    func testAgainstOnnxruntimeTensorsAndACorruptedOne() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let dump = try TestData.require(TestData.referenceDirectory.appendingPathComponent("ort-tensors"))
        let input = TestData.referenceDirectory.appendingPathComponent("ort-input.npy")
        let (status, report) = try diff(["--tensor", input.path, "--model", model.path, "--against", dump.path, "--atol", "1e-4"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual((report["layers"] as? [[String: Any]])?.count, 66)
        XCTAssertTrue(report["first_failure"] is NSNull)

        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ort-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: dump, to: copy)
        let victim = copy.appendingPathComponent("fire5_concat_1.npy")
        let tensor = try NumpyFile.read(contentsOf: victim)
        var values = tensor.floats
        values[values.count / 2] += 0.5
        try NumpyFile.write(Tensor(shape: tensor.shape, floats: values), to: victim)
        let (corrupted, failure) = try diff(["--tensor", input.path, "--model", model.path, "--against", copy.path, "--atol", "1e-4"])
        XCTAssertEqual(corrupted, 3)
        XCTAssertEqual(failure["first_failure"] as? String, "fire5/concat_1")

        // The same through the library's request type, which the command only wraps.
        let input0 = try NumpyFile.read(contentsOf: input)
        var request = ComparisonRequest(loadModelA: { try Session(contentsOf: model) }, inputA: { _ in input0 }, other: .savedTensors(copy))
        request.check = .elementwise(atol: 1e-4, rtol: 1e-3)
        let result = try ActivationComparison.run(request)
        XCTAssertEqual(result.mode, "against \(copy.path)")
        XCTAssertEqual(result.layers.count, 66)
        XCTAssertEqual(result.firstFailure, "fire5/concat_1")
        let worst = try XCTUnwrap(result.layers.first { $0.name == "fire5/concat_1" })
        XCTAssertEqual(worst.maxAbs, 0.5, accuracy: 1e-4)
        let (a, b) = try XCTUnwrap(try result.tensors(worst))
        XCTAssertEqual(b.floats[values.count / 2], values[values.count / 2])
        XCTAssertEqual(a.shape, b.shape)
    }

    /// The default check compares each layer's error with its signal (SQNR ≥ 40 dB, cosine ≥
    /// 0.999). On the real SqueezeNet with plain Caffe inputs (activations in the hundreds),
    /// onnxruntime's own dump passes it, although an elementwise atol of 1e-4 fails layers that
    /// agree to over 100 dB; noise of 3% of one layer's RMS (about 30 dB) fails that layer first.
    func testDefaultSQNRCheckPassesOnnxruntimeAndCatchesARealFault() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let dump = try TestData.require(TestData.referenceDirectory.appendingPathComponent("ort-tensors-caffe"))
        let input = TestData.referenceDirectory.appendingPathComponent("ort-input-caffe.npy")
        let (status, report) = try diff(["--tensor", input.path, "--model", model.path, "--against", dump.path])
        XCTAssertEqual(status, 0)
        for layer in try XCTUnwrap(report["layers"] as? [[String: Any]]) {
            XCTAssertGreaterThan(layer["sqnr_db"] as? Double ?? .infinity, 90, "\(layer["name"]!) against onnxruntime")
        }
        let (elementwise, alarms) = try diff(["--tensor", input.path, "--model", model.path, "--against", dump.path, "--atol", "1e-4"])
        let falseAlarms = try XCTUnwrap(alarms["layers"] as? [[String: Any]]).filter { ($0["pass"] as? Bool) == false }.count
        print("caffe-scale SqueezeNet against onnxruntime: \(falseAlarms) layers fail at atol 1e-4, none at the default check")
        XCTAssertEqual(elementwise, 3)
        XCTAssertGreaterThan(falseAlarms, 0)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ort-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: dump, to: copy)
        let victim = copy.appendingPathComponent("fire5_concat_1.npy")
        let tensor = try NumpyFile.read(contentsOf: victim)
        let rms = (tensor.floats.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(tensor.count)).squareRoot()
        var random = SeededRandom(state: 9)
        let noisy = tensor.floats.map { $0 + Float(0.03 * rms * 1.7) * random.next() }   // uniform on ±1: RMS 1/√3
        try NumpyFile.write(Tensor(shape: tensor.shape, floats: noisy), to: victim)
        let (corrupted, failure) = try diff(["--tensor", input.path, "--model", model.path, "--against", copy.path])
        XCTAssertEqual(corrupted, 3)
        XCTAssertEqual(failure["first_failure"] as? String, "fire5/concat_1")
    }

    /// bfloat16 keeps 7 fraction bits and rounds to nearest, ties to even; fp16 overflows past
    /// 65504. Closed forms around 1, where bf16's spacing is 2⁻⁷.
    func testSimulatedPrecisionsRoundAsTheFormatsDo() {
        let values: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-8 + 0x1p-20, -(1 + 3 * 0x1p-8), .nan, 70000, 3.14159265]
        let bf16 = SimulatedPrecision.bf16.round(Tensor(shape: [values.count], floats: values)).floats
        XCTAssertEqual(Array(bf16[0..<4]), [1, 1 + 0x1p-6, 1 + 0x1p-7, -(1 + 0x1p-6)])
        XCTAssertTrue(bf16[4].isNaN)
        XCTAssertEqual(bf16[5], 70144)   // 70000 = 1.0681… · 2¹⁶: spacing 2⁹ = 512, nearest 137 · 512
        XCTAssertEqual(bf16[6], 3.140625)
        let fp16 = SimulatedPrecision.fp16.round(Tensor(shape: [values.count], floats: values)).floats
        XCTAssertEqual(fp16[0], 1 + 0x1p-8)   // exact in half precision (10 fraction bits)
        XCTAssertEqual(fp16[5], .infinity)
    }

    /// One image against itself shifted 8 pixels: every layer reported, metrics equal NumPy's
    /// on the same tensors, exit status 3 (they differ).
    /// skimage_chelsea.png through caffe preprocessing, and the same shifted right by 8 pixels,
    /// as a.npy and b.npy in a fresh directory.
    func shiftedPair() throws -> (x: Tensor, shifted: Tensor, a: URL, b: URL, directory: URL) {
        let x = try Preprocessing.caffe.tensor(from: try ImageDecoder.decode(contentsOf: try TestData.image("skimage_chelsea.png")))
        var shifted = [Float](repeating: 0, count: x.count)
        let values = x.floats
        for plane in 0..<3 { for y in 0..<224 { for column in 8..<224 { shifted[(plane * 224 + y) * 224 + column] = values[(plane * 224 + y) * 224 + column - 8] } } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let a = directory.appendingPathComponent("a.npy"), b = directory.appendingPathComponent("b.npy")
        try NumpyFile.write(x, to: a)
        try NumpyFile.write(Tensor(shape: x.shape, floats: shifted), to: b)
        return (x, Tensor(shape: x.shape, floats: shifted), a, b, directory)
    }

    func testTwoInputsMatchNumpyMetrics() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let (x, shiftedTensor, a, b, directory) = try shiftedPair()
        defer { try? FileManager.default.removeItem(at: directory) }
        let shifted = shiftedTensor.floats
        let (status, report) = try diff(["--tensor", a.path, "--tensor-b", b.path, "--model", model.path])
        XCTAssertEqual(status, 3)
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 66)
        print("cosine, image vs shifted 8 px: " + layers.prefix(12).map { String(format: "%@ %.3f", $0["name"] as! String, $0["cosine"] as! Double) }.joined(separator: ", "))
        let session = try Session(contentsOf: model)
        for name in ["conv1_2", "fire3/concat_1", "fire9/concat_1"] {
            let ta = try session.run(["data_0": x], outputs: [name])[name]!, tb = try session.run(["data_0": Tensor(shape: x.shape, floats: shifted)], outputs: [name])[name]!
            let pa = directory.appendingPathComponent("la.npy"), pb = directory.appendingPathComponent("lb.npy")
            try NumpyFile.write(ta, to: pa)
            try NumpyFile.write(tb, to: pb)
            let numpy = try JSONSerialization.jsonObject(with: Data(try TestData.python("""
                import numpy as np, json
                a = np.load('\(pa.path)').astype(np.float64); b = np.load('\(pb.path)').astype(np.float64); d = a - b
                print(json.dumps({"max_abs": float(np.abs(d).max()), "mean_abs": float(np.abs(d).mean()),
                  "rel_l2": float(np.linalg.norm(d) / np.linalg.norm(a)), "cosine": float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b)),
                  "sqnr_db": float(20 * np.log10(np.linalg.norm(a) / np.linalg.norm(d))),
                  "std_abs": float(np.abs(d).std()), "median_abs": float(np.median(np.abs(d))),
                  "p90_abs": float(np.percentile(np.abs(d), 90)), "p95_abs": float(np.percentile(np.abs(d), 95)),
                  "p99_abs": float(np.percentile(np.abs(d), 99)), "min_atol": float(np.abs(d).max()),
                  "min_rtol": float((np.abs(d) / np.abs(b))[np.abs(d) > 0].max()) if (b[np.abs(d) > 0] != 0).all() else None}))
                """).utf8)) as! [String: Any]
            let ours = try XCTUnwrap(layers.first { $0["name"] as? String == name })
            for (key, value) in numpy {
                guard let value = value as? Double else {
                    XCTAssertTrue(ours[key] is NSNull, "\(name) \(key): some |b| = 0 differs, so no rtol passes")
                    continue
                }
                XCTAssertEqual(ours[key] as! Double, value, accuracy: 1e-9 + 1e-9 * abs(value), "\(name) \(key)")
            }
            XCTAssertEqual((ours["histogram"] as? [Int])?.reduce(0, +), ta.count, "\(name): the histogram holds every element")
        }
    }

    /// The HTML view: one chart point per layer, the worst layers (lowest SQNR among 4-D
    /// layers, as the JSON ranks them), and the first heat map's brightest pixel where NumPy's
    /// Σ_c |a − b| of that layer peaks.
    func testHTMLPageChartsSQNRAndDrawsTheWorstLayers() throws {
        let model = try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")
        let (_, _, a, b, directory) = try shiftedPair()
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("diff.html")
        let (status, report) = try diff(["--tensor", a.path, "--tensor-b", b.path, "--model", model.path, "--html", page.path])
        XCTAssertEqual(status, 3)
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<circle ").count - 1, layers.count, "one chart point per layer")
        XCTAssertFalse(html.contains("http://") && html.contains("<script"), "self-contained")
        let worst = layers.filter { ($0["shape"] as? [Int])?.count == 4 && $0["sqnr_db"] is Double }
            .sorted { ($0["sqnr_db"] as! Double) < ($1["sqnr_db"] as! Double) }.prefix(3).map { $0["name"] as! String }
        let headings = html.components(separatedBy: "<h3>").dropFirst().map { String($0.prefix { $0 != " " }) }
        XCTAssertEqual(Array(headings.prefix(3)), worst)

        // The first heat map (Σ_c |a − b| of the worst layer): its brightest pixel, against NumPy's argmax.
        let base64 = try XCTUnwrap(html.components(separatedBy: "data:image/png;base64,").dropFirst().first?.prefix { $0 != "\"" })
        let image = try ImageDecoder.decode(try XCTUnwrap(Data(base64Encoded: String(base64))))
        var brightest = (value: -1, x: 0, y: 0)
        for y in 0..<image.height { for x in 0..<image.width {
            let o = 3 * (y * image.width + x)
            let value = Int(image.pixels[o]) + Int(image.pixels[o + 1]) + Int(image.pixels[o + 2])
            if value > brightest.value { brightest = (value, x, y) }
        } }
        let session = try Session(contentsOf: model)
        let name = worst[0]
        let ta = try session.run(["data_0": try NumpyFile.read(contentsOf: a)], outputs: [name])[name]!
        let tb = try session.run(["data_0": try NumpyFile.read(contentsOf: b)], outputs: [name])[name]!
        let pa = directory.appendingPathComponent("la.npy"), pb = directory.appendingPathComponent("lb.npy")
        try NumpyFile.write(ta, to: pa)
        try NumpyFile.write(tb, to: pb)
        let peak = try TestData.python("""
            import numpy as np
            d = np.abs(np.load('\(pa.path)')[0] - np.load('\(pb.path)')[0]).sum(axis=0)
            y, x = np.unravel_index(np.argmax(d), d.shape); print(x, y, d.shape[1])
            """).split(separator: " ").map { Int($0)! }
        let scale = image.width / peak[2]
        XCTAssertEqual(brightest.x / scale, peak[0], "heat map peak column")
        XCTAssertEqual(brightest.y / scale, peak[1], "heat map peak row")
    }
}
