import CNNVizAttribution
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Every gradient method against `scripts/reference/saliency_reference.py`: Captum's
/// definitions re-implemented in NumPy float64 over gradients that `cnn-viz run --backward`
/// dumps (occlusion over onnxruntime alone), on the real SqueezeNet and the WinML MNIST net.
/// Bar: relative L2 ‖ours − reference‖/‖reference‖ ≤ 1e-3.
/// The reference's gradient, input × gradient, guided-backprop and deconvnet cases are
/// cnn-viz's own dumped gradients, so comparing them would test nothing: they are skipped here.
/// Their values are checked elsewhere: against float64 finite differences
/// (WholeModelGradientTests) and the ReLU rules in closed form (BackwardEngineTests).
final class SaliencyAgreementTests: EngineTestCase {
    struct Case: Decodable {
        var name: String, model: String, input: String, method: String, reference: String
        var `class`: Int
        var options: [String: Option]?
    }

    enum Option: Decodable {
        case number(Double), text(String), numbers([Double]), other
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .text(value) }
            else if let value = try? container.decode([Double].self) { self = .numbers(value) }
            else { self = .other }
        }
    }

    func testEveryMethodMatchesCaptumsDefinition() throws {
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("saliency_cases.json"))
        struct Cases: Decodable { var cases: [Case] }
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: url)).cases
        let ownGradients: Set = ["gradient", "input-x-gradient", "guided-backprop", "deconvnet"]
        XCTAssertGreaterThanOrEqual(cases.filter { !ownGradients.contains($0.method) }.count, 20)
        // Each model for its top class and one other.
        for (model, modelCases) in Dictionary(grouping: cases, by: { $0.model }) {
            XCTAssertGreaterThanOrEqual(Set(modelCases.map { $0.class }).count, 2, "classes explained on \(model)")
        }
        var runners = [String: SaliencyRunner]()
        for item in cases where !ownGradients.contains(item.method) {
            let runner = try runners[item.model] ?? SaliencyRunner(session: Session(contentsOf: URL(fileURLWithPath: item.model)))
            runners[item.model] = runner
            let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: item.input))
            var request = SaliencyRequest(classes: [item.class])
            // One batch of all steps, as when the references were checked: at a zero baseline the
            // α = 0 step runs through exactly tied max-pool windows, where another batch size
            // (another conv kernel) routes that step's gradient elsewhere.
            request.memoryLimit = nil
            let options = item.options ?? [:]
            if case .number(let n) = options["n_steps"] { request.steps = Int(n) }
            if case .text(let rule) = options["integration"] ?? options["method"] {
                request.integration = rule.contains("legendre") ? .gaussLegendre : .riemannTrapezoid
            }
            if case .text(let path) = options["baseline"], path.hasSuffix(".npy") {
                request.baseline = .custom(try NumpyFile.read(contentsOf: URL(fileURLWithPath: path)))
            }
            if case .text(let layer) = options["layer"] { request.layer = layer }
            if case .numbers(let window) = options["window"] { request.window = (Int(window[window.count - 2]), Int(window[window.count - 1])) }
            if case .numbers(let stride) = options["stride"] { request.stride = (Int(stride[stride.count - 2]), Int(stride[stride.count - 1])) }
            let methodName = item.method.hasPrefix("integrated-gradients") ? "integrated-gradients"
                : item.method.hasPrefix("occlusion") ? "occlusion" : item.method
            let ours = try runner.run(try SaliencyMethod.named(methodName), input: input, request: request).attribution.floats
            let reference = try NumpyFile.read(contentsOf: URL(fileURLWithPath: item.reference)).floats
            XCTAssertEqual(ours.count, reference.count, item.name)
            let difference = zip(ours, reference).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let norm = reference.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            let relative = difference / max(norm, 1e-30)
            let variant = URL(fileURLWithPath: item.reference).deletingPathExtension().lastPathComponent
            print(String(format: "%-20@ class %4d  %-58@ relative L2 %.2e", item.name, item.class, variant, relative))
            XCTAssertLessThanOrEqual(relative, 1e-3, "\(item.name) \(item.method)")
        }
    }
}
