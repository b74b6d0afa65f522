import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// End-to-end training: a small CNN learns a task with a known answer (the orientation of a
/// bar in a noisy 8×8 image: horizontal, vertical, diagonal or anti-diagonal), and its ONNX
/// export gives onnxruntime's outputs.
final class TrainingTests: EngineTestCase {
    /// Images of class 0–3 with the bar at a random position, plus uniform noise of ±0.2.
    static func bars(count: Int, seed: UInt64) -> (Tensor, [Int]) {
        var random = SeededRandom(state: seed)
        var values = [Float](), labels = [Int]()
        for _ in 0..<count {
            let label = Int((random.next() + 1) * 1.999)
            let offset = Int((random.next() + 1) * 3.499)
            for y in 0..<8 {
                for x in 0..<8 {
                    let on: Bool
                    switch label {
                    case 0: on = y == offset
                    case 1: on = x == offset
                    case 2: on = x == y
                    default: on = x + y == 7
                    }
                    values.append((on ? 1 : 0) + 0.2 * random.next())
                }
            }
            labels.append(label)
        }
        return (Tensor(shape: [count, 1, 8, 8], floats: values), labels)
    }

    func testSmallCNNLearnsBarOrientationAndExportsToOnnxruntime() throws {
        let model = try NetworkBuilder(seed: 1).conv(out: 8, kernel: 3, pad: 1).relu().maxPool(kernel: 2)
            .conv(out: 16, kernel: 3, pad: 1).relu().globalAveragePool().flatten().dense(out: 4)
            .build(inputShape: [nil, 1, 8, 8])
        let session = try Session(model: model)
        let input = session.graph.inputs[0].name, output = session.graph.outputs[0].name
        let parameters = session.graph.initializers.keys.sorted()
        var optimizer = Adam(learningRate: 0.01)
        var losses = [Float]()
        for step in 0..<300 {
            let (batch, labels) = Self.bars(count: 16, seed: UInt64(step))
            losses.append(try session.trainingStep([input: batch], output: output, parameters: parameters, optimizer: &optimizer) {
                try Loss.softmaxCrossEntropy(logits: $0, labels: labels)
            })
        }
        let first = losses.prefix(20).reduce(0, +) / 20, last = losses.suffix(20).reduce(0, +) / 20
        XCTAssertGreaterThan(first, 1.0, "an untrained 4-class net starts near ln 4 = 1.39")
        XCTAssertLessThan(last, 0.15, "the loss went from \(first) to \(last)")

        let (test, labels) = Self.bars(count: 400, seed: 10_000)
        let logits = try session.run([input: test])[output]!
        let predictions = (0..<400).map { n in (0..<4).max { logits.floats[n * 4 + $0] < logits.floats[n * 4 + $1] }! }
        let accuracy = Double(zip(predictions, labels).filter { $0 == $1 }.count) / 400
        XCTAssertGreaterThanOrEqual(accuracy, 0.97, "held-out accuracy")

        // The trained model, exported, in onnxruntime.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelURL = directory.appendingPathComponent("bars.onnx"), inputURL = directory.appendingPathComponent("x.npy")
        let outputURL = directory.appendingPathComponent("y.npy")
        try ONNXExporter.write(session.trainedModel, to: modelURL)
        try NumpyFile.write(test, to: inputURL)
        _ = try TestData.python("""
            import numpy as np, onnxruntime as ort
            s = ort.InferenceSession('\(modelURL.path)', providers=['CPUExecutionProvider'])
            np.save('\(outputURL.path)', s.run(None, {'\(input)': np.load('\(inputURL.path)')})[0])
            """, modules: ["numpy", "onnxruntime"])
        let reference = try NumpyFile.read(contentsOf: outputURL).floats
        let scale = reference.map(abs).max()!
        let difference = zip(logits.floats, reference).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(difference, 1e-4 * scale, "max|cnn-viz − onnxruntime| on the exported model")
        print("bars: loss \(first) → \(last) over 300 Adam steps, held-out accuracy \(accuracy), export max|diff| \(difference) (scale \(scale))")
    }
}
