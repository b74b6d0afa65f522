import Foundation
import ONNXProto

/// Runs ONNX backend node tests: `DIR/node/test_*/model.onnx` with `test_data_set_*/input_N.pb`
/// and `output_N.pb`, comparing every output with |ours − expected| ≤ atol + rtol·|expected|,
/// equal shapes, and NaN where NaN is expected.
public struct ConformanceSuite {
    public struct Outcome: Sendable {
        public enum Status: String, Sendable { case passed, failed, skipped }
        public var test: String
        public var opTypes: [String]
        public var status: Status
        public var detail: String
    }

    public var rtol: Float = 1e-3
    public var atol: Float = 1e-5

    public init(rtol: Float = 1e-3, atol: Float = 1e-5) {
        self.rtol = rtol
        self.atol = atol
    }

    /// Test folders under `directory/node` (or `directory` itself when it holds test_* folders).
    public func testDirectories(in directory: URL) throws -> [URL] {
        let fm = FileManager.default
        let nodeDirectory = directory.appendingPathComponent("node")
        let root = fm.fileExists(atPath: nodeDirectory.path) ? nodeDirectory : directory
        guard let names = try? fm.contentsOfDirectory(atPath: root.path) else {
            throw CNNVizError(.fileNotReadable, "cannot list the conformance directory", location: root.path)
        }
        return names.filter { $0.hasPrefix("test_") }.sorted().map { root.appendingPathComponent($0) }
            .filter { fm.fileExists(atPath: $0.appendingPathComponent("model.onnx").path) }
    }

    public func run(_ testDirectory: URL) -> Outcome {
        let name = testDirectory.lastPathComponent
        var opTypes = [String]()
        do {
            let modelURL = testDirectory.appendingPathComponent("model.onnx")
            let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: modelURL))
            opTypes = proto.graph.node.map(\.opType)
            if let reason = skipReason(name: name, proto: proto) {
                return Outcome(test: name, opTypes: opTypes, status: .skipped, detail: reason)
            }
            let session = try Session(contentsOf: modelURL)
            let dataSets = try FileManager.default.contentsOfDirectory(atPath: testDirectory.path)
                .filter { $0.hasPrefix("test_data_set_") }.sorted()
            for dataSet in dataSets {
                let folder = testDirectory.appendingPathComponent(dataSet)
                var feeds = [String: Tensor]()
                for (index, input) in proto.graph.input.enumerated() {
                    let url = folder.appendingPathComponent("input_\(index).pb")
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    feeds[input.name] = try ONNXTensor.decode(Onnx_TensorProto(serializedBytes: try Data(contentsOf: url)))
                }
                let outputNames = proto.graph.output.map(\.name)
                let results = try session.run(feeds, outputs: outputNames)
                for (index, outputName) in outputNames.enumerated() {
                    let url = folder.appendingPathComponent("output_\(index).pb")
                    let expected = try ONNXTensor.decode(Onnx_TensorProto(serializedBytes: try Data(contentsOf: url)))
                    if let mismatch = compare(results[outputName]!, expected) {
                        return Outcome(test: name, opTypes: opTypes, status: .failed, detail: "output '\(outputName)': \(mismatch)")
                    }
                }
            }
            return Outcome(test: name, opTypes: opTypes, status: .passed, detail: "")
        } catch {
            return Outcome(test: name, opTypes: opTypes, status: .failed, detail: "\(error)")
        }
    }

    /// Why a test is outside what cnn-viz supports, or nil to run it.
    func skipReason(name: String, proto: Onnx_ModelProto) -> String? {
        if name.hasPrefix("test_training_dropout") {
            return "training-mode Dropout is random; its output cannot match across implementations"
        }
        let values = proto.graph.input + proto.graph.output
        for value in values {
            guard case .tensorType(let tensorType)? = value.type.value else {
                return "value '\(value.name)' is a Sequence/Optional, not a tensor"
            }
            let type = ElementType(rawValue: Int(tensorType.elemType))
            if type == nil || !type!.isSupported {
                return "element type \(type?.description ?? "\(tensorType.elemType)") of '\(value.name)' is outside the supported set"
            }
        }
        return nil
    }

    /// nil when equal within tolerance, else a description of the first mismatch.
    public func compare(_ actual: Tensor, _ expected: Tensor) -> String? {
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        if !expected.isFloatingPoint {
            let a = actual.integers, e = expected.integers
            if let i = zip(a, e).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                return "index \(i): \(a[i]), expected \(e[i])"
            }
            return nil
        }
        let a = actual.floats, e = expected.floats
        for i in 0..<e.count {
            if e[i].isNaN { if !a[i].isNaN { return "index \(i): \(a[i]), expected NaN" } ; continue }
            if e[i].isInfinite { if a[i] != e[i] { return "index \(i): \(a[i]), expected \(e[i])" } ; continue }
            if !(abs(a[i] - e[i]) <= atol + rtol * abs(e[i])) {
                return "index \(i): \(a[i]), expected \(e[i]) (|diff| \(abs(a[i] - e[i])) > atol \(atol) + rtol \(rtol)·|expected|)"
            }
        }
        return nil
    }
}
