import CNNVizRuntime
import Foundation
import XCTest

/// The command-line contract that other tools call: `cnn-viz run … --json --repeat N` and
/// `cnn-viz predict … --json`, checked against onnxruntime's values and the photos' labels.
final class CommandLineTests: XCTestCase {
    func runBinary(_ arguments: [String]) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = try TestData.require(TestData.binary)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    func testRunWritesOutputsAndTiming() throws {
        let casesURL = try TestData.require(TestData.referenceDirectory.appendingPathComponent("cases.json"))
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: casesURL)) as! [String: [[String: Any]]]
        let mnist = try XCTUnwrap(cases["cases"]!.first { ($0["name"] as! String).hasPrefix("winml_mnist/") })
        let inputs = mnist["inputs"] as! [String: String], expected = mnist["expected"] as! [String: String]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, data) = try runBinary(["run", "--model", mnist["model"] as! String, "--tensor", inputs.values.first!,
                                            "--out", out.path, "--json", "--repeat", "3"])
        XCTAssertEqual(status, 0)
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let outputs = manifest["outputs"] as! [String: String]
        let timing = manifest["timing"] as! [String: Double]
        XCTAssertGreaterThan(timing["forward_ms"] ?? 0, 0)
        for (name, path) in expected {
            let ours = try NumpyFile.read(contentsOf: URL(fileURLWithPath: outputs[name]!)).floats
            let reference = try NumpyFile.read(contentsOf: URL(fileURLWithPath: path)).floats
            let scale = reference.map(abs).max()!
            XCTAssertLessThanOrEqual(zip(ours, reference).map { abs($0 - $1) }.max()!, 1e-4 * scale, name)
        }
    }

    func testPredictJSON() throws {
        let (status, data) = try runBinary([
            "predict", try TestData.image("skimage_coffee.png").path, try TestData.image("winml_dog.jpg").path,
            "--model", try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx").path,
            "--labels", try TestData.require(TestData.shared.appendingPathComponent("data/labels/imagenet_synset.txt")).path,
            "--preprocess", "caffe", "--top", "2", "--json",
        ])
        XCTAssertEqual(status, 0)
        let results = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["results"] as! [[String: Any]]
        let tops = results.map { ($0["top"] as! [[String: Any]]) }
        XCTAssertEqual(tops.map { $0[0]["class"] as! Int }, [967, 207])
        XCTAssertEqual(tops.map { $0[0]["label"] as! String }, ["espresso", "golden retriever"])
        XCTAssertEqual(tops.map(\.count), [2, 2])
        for top in tops {
            let scores = top.map { $0["score"] as! Double }
            XCTAssertGreaterThanOrEqual(scores[0], scores[1])
            XCTAssertLessThanOrEqual(scores.reduce(0, +), 1.0 + 1e-6)
        }
    }
}
