import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Central finite differences against the reverse pass, for one op in a one-node graph.
///
/// L = Σ r ⊙ y for a fixed random cotangent r on the checked output. For each probed index i
/// of a checked input, the numeric derivative is (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h with the op
/// run in float32, and the analytic one comes from `Session.gradients`.
/// Tolerance (float32): |analytic − numeric| ≤ 3e-3 + 2e-2·max(|analytic|, |numeric|); with
/// h = 1e-2 and inputs of order 1 the truncation error is O(h²) and the float32 rounding of L,
/// divided by 2h, stays below 1e-4. Inputs are drawn away from kinks (ReLU at 0, max ties)
/// by the individual tests, since a difference across a kink measures neither side.
struct GradientCheck {
    var opType: String
    var attributes: [String: Attribute] = [:]
    /// The op's inputs in order; nil leaves an optional input out.
    var inputs: [Tensor?]
    /// The input slots to differentiate (the others are constants).
    var checked: [Int]
    var opset = 17
    var outputCount = 1
    var step: Float = 1e-2


    func name(_ slot: Int) -> String { "x\(slot)" }

    func session() throws -> Session {
        var initializers = [String: Tensor]()
        var graphInputs = [ValueInfo]()
        for (slot, input) in inputs.enumerated() {
            guard let input else { continue }
            if checked.contains(slot) {
                graphInputs.append(ValueInfo(name: name(slot), elementType: input.elementType, shape: input.shape))
            } else {
                initializers[name(slot)] = input
            }
        }
        let node = Node(name: "op", opType: opType, inputs: inputs.indices.map { inputs[$0] == nil ? "" : name($0) },
                        outputs: (0..<outputCount).map { "y\($0)" }, attributes: attributes)
        let graph = Graph(name: opType, nodes: [node], initializers: initializers, inputs: graphInputs,
                          outputs: (0..<outputCount).map { ValueInfo(name: "y\($0)", elementType: .float32, shape: nil) })
        return try Session(model: Model(graph: graph, irVersion: 8, opsetVersion: opset))
    }

    /// Checks every input in `checked` at up to `probes` indices per input, on output `output`.
    func run(output: Int = 0, probes: Int = 48, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let session = try session()
        var feeds = [String: Tensor]()
        for slot in checked { feeds[name(slot)] = inputs[slot]! }
        let outputName = "y\(output)"
        let y = try session.run(feeds, outputs: [outputName])[outputName]!
        var random = SeededRandom(state: seed &+ 99)
        let cotangent = random.tensor(y.shape)
        let r = cotangent.floats
        let result = try session.gradients(feeds, seed: GradientSeed(output: outputName, kind: .cotangent(cotangent)),
                                           wrt: checked.map(name))
        func loss(_ feeds: [String: Tensor]) throws -> Double {
            let values = try session.run(feeds, outputs: [outputName])[outputName]!.floats
            return zip(values, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for slot in checked {
            let x = inputs[slot]!
            guard let analytic = result.gradients[name(slot)] else {
                XCTFail("\(opType): no gradient returned for input \(slot)", file: file, line: line)
                continue
            }
            XCTAssertEqual(analytic.shape, x.shape, "\(opType): gradient shape of input \(slot)", file: file, line: line)
            let values = x.floats, gradient = analytic.floats
            var indices = Array(0..<values.count)
            if values.count > probes {
                indices = (0..<probes).map { _ in Int(UInt64(bitPattern: Int64((random.next() + 1) * 1e6))) % values.count }
            }
            for i in indices {
                var plus = values, minus = values
                plus[i] += step
                minus[i] -= step
                var feedsPlus = feeds, feedsMinus = feeds
                feedsPlus[name(slot)] = Tensor(shape: x.shape, floats: plus)
                feedsMinus[name(slot)] = Tensor(shape: x.shape, floats: minus)
                let numeric = (try loss(feedsPlus) - loss(feedsMinus)) / (2 * Double(step))
                let a = Double(gradient[i])
                let tolerance = 3e-3 + 2e-2 * max(abs(a), abs(numeric))
                if abs(a - numeric) > tolerance {
                    XCTFail("\(opType) \(attributes.keys.sorted()): ∂L/∂input \(slot) (\(x.shape)) at flat index \(i): analytic \(a), finite difference \(numeric)",
                            file: file, line: line)
                    return
                }
            }
        }
    }
}
