import CNNVizAttribution
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Every CAM method against `scripts/reference/cam_reference.py`: a NumPy float64
/// implementation of pytorch-grad-cam's formulas (onnxruntime for ScoreCAM and AblationCAM
/// scores), on the real SqueezeNet (gradcam_both.png, classes 243 and 281, fire9/concat_1)
/// and the WinML MNIST net (one and two layers, a layer with negative values).
/// Bar: Pearson correlation ≥ 0.999 and max |ours − reference| ≤ 1e-3 on the [0, 1] maps.
final class CAMAgreementTests: EngineTestCase {
    struct Case: Decodable {
        var name: String, model: String, input: String, logits: String, layers: [String], method: String, reference: String
        var `class`: Int
        var aug_smooth: Bool
        var eigen_smooth: Bool
    }

    func testEveryMethodMatchesTheReference() throws {
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("cam_cases.json"))
        struct Cases: Decodable { var cases: [Case] }
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: url)).cases
        XCTAssertGreaterThanOrEqual(cases.count, 100)
        var sessions = [String: CAMRunner]()
        var worst = [String: (Double, Double)]()
        for item in cases {
            let runner = try sessions[item.model] ?? CAMRunner(session: Session(contentsOf: URL(fileURLWithPath: item.model)))
            sessions[item.model] = runner
            var request = CAMRequest(classes: [item.class])
            request.layers = item.layers
            request.logits = item.logits
            request.eigenSmooth = item.eigen_smooth
            request.augSmooth = item.aug_smooth
            let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: item.input))
            let ours = try runner.run(try CAMMethods.named(item.method), input: input, request: request).map.floats
            let reference = try NumpyFile.read(contentsOf: URL(fileURLWithPath: item.reference)).floats
            XCTAssertEqual(ours.count, reference.count, item.name)
            let difference = zip(ours, reference).map { Double(abs($0 - $1)) }.max() ?? 0
            let correlation = Self.pearson(ours, reference)
            let key = "\(item.method)\(item.eigen_smooth ? "+eigen" : "")\(item.aug_smooth ? "+aug" : "")"
            let previous = worst[key] ?? (1, 0)
            worst[key] = (min(previous.0, correlation), max(previous.1, difference))
            XCTAssertLessThanOrEqual(difference, 1e-3, "\(item.name) class \(item.class) \(key): max |Δ|")
            XCTAssertGreaterThanOrEqual(correlation, 0.999, "\(item.name) class \(item.class) \(key): Pearson r")
        }
        for (key, (r, d)) in worst.sorted(by: { $0.key < $1.key }) {
            print(String(format: "%-24@ worst r %.7f, worst max|Δ| %.2e", key, r, d))
        }
    }

    /// Pearson r; two constant maps that are equal count as r = 1.
    static func pearson(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0) { $0 + Double($1) } / n, mb = b.reduce(0) { $0 + Double($1) } / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (Double(x) - ma) * (Double(y) - mb)
            saa += (Double(x) - ma) * (Double(x) - ma)
            sbb += (Double(y) - mb) * (Double(y) - mb)
        }
        if saa == 0 && sbb == 0 { return zip(a, b).allSatisfy { $0 == $1 } ? 1 : 0 }
        return sab / (saa * sbb).squareRoot()
    }
}
