import CNNVizReport
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// `cnn-viz stats`: a channel pushed to −10⁶ before its ReLU is the one dead channel, and the
/// per-channel numbers equal NumPy's over the same activations.
final class StatsTests: EngineTestCase {
    func testDeadChannelIsFoundAndStatisticsMatchNumpy() throws {
        var model = try NetworkBuilder(seed: 6).conv(out: 5, kernel: 3, pad: 1).relu().globalAveragePool().flatten().dense(out: 2)
            .build(inputShape: [1, 1, 6, 6])
        var bias = model.graph.initializers["conv1.bias"]!.floats
        bias[3] = -1e6
        model.graph.initializers["conv1.bias"] = Tensor(shape: [5], floats: bias)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelURL = directory.appendingPathComponent("dead.onnx")
        try ONNXExporter.write(model, to: modelURL)
        var random = SeededRandom(state: 8)
        var arguments = ["stats", "--model", modelURL.path]
        var inputs = [Tensor]()
        for k in 0..<3 {
            let x = random.tensor([1, 1, 6, 6])
            inputs.append(x)
            let url = directory.appendingPathComponent("x\(k).npy")
            try NumpyFile.write(x, to: url)
            arguments += ["--tensor", url.path]
        }
        let page = directory.appendingPathComponent("stats.html")
        let report = try TestData.runJSON(arguments + ["--html", page.path])
        XCTAssertEqual(report["images"] as? Int, 3)
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        let relu = try XCTUnwrap(layers.first { $0["name"] as? String == "relu1" })
        XCTAssertEqual(relu["dead"] as? [Int], [3])
        // The HTML page: relu1's row lists channel 3 as dead, and its bar in the strip is the one red bar.
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<tr><td>relu1</td>"), "relu1 has a row")
        let row = try XCTUnwrap(html.components(separatedBy: "<tr><td>relu1</td>").dropFirst().first?.components(separatedBy: "</tr>").first)
        XCTAssertTrue(row.hasSuffix("<td>1: 3</td><td>0</td>"), "dead column counts 1 (channel 3), saturated none: \(row)")
        let strip = try XCTUnwrap(html.components(separatedBy: "<h3>relu1</h3>").dropFirst().first?.components(separatedBy: "</svg>").first)
        let bars = strip.components(separatedBy: "<rect x=").dropFirst()
        XCTAssertEqual(bars.filter { $0.contains("#d62728") }.count, 1)
        XCTAssertTrue(bars.dropFirst(3).first?.contains("#d62728") ?? false, "channel 3's bar is the red one")
        // conv1 (before the ReLU) is signed: no channel of it is called dead, and the logits neither.
        let conv = try XCTUnwrap(layers.first { $0["name"] as? String == "conv1" })
        XCTAssertEqual(conv["non_negative"] as? Bool, false)
        XCTAssertEqual(conv["dead"] as? [Int], [])
        let logits = try XCTUnwrap(layers.last)
        XCTAssertEqual(logits["dead"] as? [Int], [], "\(logits["name"] ?? "")")
        XCTAssertTrue(html.contains("n/a (signed)"))

        // The same numbers from NumPy over the ReLU activations of the three inputs.
        let session = try Session(model: model)
        let activations = try inputs.map { try session.run([session.graph.inputs[0].name: $0], outputs: ["relu1"])["relu1"]! }
        let stacked = directory.appendingPathComponent("relu.npy")
        try NumpyFile.write(Tensor(shape: [3, 5, 6, 6], floats: activations.flatMap(\.floats)), to: stacked)
        let numpy = try JSONSerialization.jsonObject(with: Data(try TestData.python("""
            import numpy as np, json
            a = np.load('\(stacked.path)').astype(np.float64).transpose(1, 0, 2, 3).reshape(5, -1)
            print(json.dumps({"mean": a.mean(1).tolist(), "std": a.std(1).tolist(), "max": a.max(1).tolist(), "min": a.min(1).tolist(), "zeros": (a == 0).mean(1).tolist()}))
            """).utf8)) as! [String: [Double]]
        let channels = try XCTUnwrap(relu["channels"] as? [[String: Any]])
        for (c, channel) in channels.enumerated() {
            for (ours, theirs) in [("mean", "mean"), ("std", "std"), ("max", "max"), ("min", "min"), ("zero_fraction", "zeros")] {
                XCTAssertEqual(channel[ours] as! Double, numpy[theirs]![c], accuracy: 1e-9, "channel \(c) \(ours)")
            }
        }
    }

    /// Three shards of a folder of scenes (`--shard I/3 --out DIR`, then `cnn-viz merge DIR`)
    /// give the statistics of one process over the whole folder (which the test above checks
    /// against NumPy): the same counts, dead and saturated channels, and every figure within
    /// 1e-12 relative (the sums' order differs).
    func testShardedStatisticsMergeToTheWholeSets() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stats-shards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let scenes = directory.appendingPathComponent("scenes").path
        let (status, _, errors) = try TestData.runBinary(["shapes", "generate", "--count", "7", "--seed", "5", "--out", scenes])
        XCTAssertEqual(status, 0, errors)
        let whole = try TestData.runJSON(["stats", scenes])
        let out = directory.appendingPathComponent("shards").path
        for index in 0..<3 { _ = try TestData.runJSON(["stats", scenes, "--shard", "\(index)/3", "--out", out]) }
        let (merged, _, mergeErrors) = try TestData.runBinary(["merge", out])
        XCTAssertEqual(merged, 0, mergeErrors)
        let combined = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/stats.json"))) as? [String: Any])
        XCTAssertEqual(combined["images"] as? Int, 7)
        XCTAssertEqual(whole["images"] as? Int, 7)
        let (ours, theirs) = (try XCTUnwrap(combined["layers"] as? [[String: Any]]), try XCTUnwrap(whole["layers"] as? [[String: Any]]))
        XCTAssertEqual(ours.map { $0["name"] as? String }, theirs.map { $0["name"] as? String })
        for (a, b) in zip(ours, theirs) {
            XCTAssertEqual(a["dead"] as? [Int], b["dead"] as? [Int])
            XCTAssertEqual(a["saturated"] as? [Int], b["saturated"] as? [Int])
            for (x, y) in zip(try XCTUnwrap(a["channels"] as? [[String: Any]]), try XCTUnwrap(b["channels"] as? [[String: Any]])) {
                for key in ["mean", "std", "min", "max", "zero_fraction"] {
                    let (u, v) = (x[key] as! Double, y[key] as! Double)
                    XCTAssertEqual(u, v, accuracy: 1e-12 * max(1, abs(v)), "\(a["name"]!) channel \(x["index"]!) \(key)")
                }
            }
        }
    }
}
