import CNNVizRuntime
import CNNVizTestSupport
import XCTest

/// The forward memo (`Session.forwardMemoLimit`) must change nothing but the work done: a
/// later pass on the same input returns the tensors a session without the memo computes,
/// bit for bit, and runs no node; anything that computes other values (another input, a
/// hook, a given tensor) runs the graph again.
final class ForwardMemoTests: XCTestCase {
    func makeSession() throws -> Session {
        let model = try NetworkBuilder(seed: 5).conv(out: 6, kernel: 3, pad: 1).relu().conv(out: 5, kernel: 3, pad: 1).relu()
            .maxPool(kernel: 2).flatten().dense(out: 4).build(inputShape: [1, 2, 8, 8])
        return try Session(model: model)
    }

    /// Counts the forward nodes each call runs.
    final class NodeCount: @unchecked Sendable {
        var forward = 0
        func attach(to session: Session) { session.profiler = { node, _ in if !node.opType.hasSuffix("/backward") { self.forward += 1 } } }
        func taking() -> Int { defer { forward = 0 }; return forward }
    }

    func testAPassOnTheSameInputReusesTheKeptOneAndGivesTheSameValues() throws {
        let plain = try makeSession(), memo = try makeSession()
        memo.forwardMemoLimit = 1 << 30
        let count = NodeCount()
        count.attach(to: memo)
        var random = SeededRandom(state: 11)
        let x = random.tensor([1, 2, 8, 8]), other = random.tensor([1, 2, 8, 8])
        let input = plain.graph.inputs[0].name, output = plain.graph.outputs[0].name
        let layer = plain.graph.nodes[3].outputs[0]   // the second ReLU's output, inside the graph
        let fused = plain.graph.nodes[2].outputs[0]   // the conv before it, fused with the ReLU in a plain pass
        let expected = try plain.run([input: x])[output]!
        let seed = GradientSeed.logit(output, classes: [2])
        let expectedGradient = try plain.gradients([input: x], seed: seed, wrt: [layer, input]).gradients

        XCTAssertEqual(try memo.run([input: x])[output]!.floats, expected.floats)
        XCTAssertGreaterThan(count.taking(), 0, "the first pass at a shape measures it")
        XCTAssertEqual(try memo.run([input: x])[output]!.floats, expected.floats)
        XCTAssertGreaterThan(count.taking(), 0, "the second pass is kept whole")
        XCTAssertEqual(try memo.run([input: x], outputs: [layer])[layer]!.floats,
                       try plain.run([input: x], outputs: [layer])[layer]!.floats)
        XCTAssertEqual(count.taking(), 0, "a pass on the same input reuses the kept one")
        let gradients = try memo.gradients([input: x], seed: seed, wrt: [layer, input]).gradients
        XCTAssertEqual(count.taking(), 0, "the gradient pass's forward half is the kept pass")
        XCTAssertEqual(gradients[layer]!.floats, expectedGradient[layer]!.floats)
        XCTAssertEqual(gradients[input]!.floats, expectedGradient[input]!.floats)
        XCTAssertEqual(try memo.run([input: x], outputs: [fused])[fused]!.floats,
                       try plain.run([input: x], outputs: [fused])[fused]!.floats)
        XCTAssertGreaterThan(count.taking(), 0, "a tensor the kept pass fused away is computed")

        XCTAssertEqual(try memo.run([input: other])[output]!.floats, try plain.run([input: other])[output]!.floats)
        XCTAssertGreaterThan(count.taking(), 0, "another input runs the graph")
        let doubled: ActivationHook = { _, t in Tensor(shape: t.shape, floats: t.floats.map { $0 * 2 }) }
        XCTAssertEqual(try memo.run([input: other], hooks: [layer: doubled])[output]!.floats,
                       try plain.run([input: other], hooks: [layer: doubled])[output]!.floats)
        XCTAssertGreaterThan(count.taking(), 0, "a hooked pass computes other values")
        XCTAssertEqual(try memo.run([input: other])[output]!.floats, try plain.run([input: other])[output]!.floats)
        XCTAssertEqual(count.taking(), 0, "the hooked pass neither used nor replaced the kept one")
    }

    func testAPassLargerThanTheLimitIsNeverKept() throws {
        let session = try makeSession()
        session.forwardMemoLimit = 64   // bytes: less than the input alone
        let count = NodeCount()
        count.attach(to: session)
        var random = SeededRandom(state: 3)
        let x = random.tensor([1, 2, 8, 8])
        let input = session.graph.inputs[0].name
        for _ in 0..<3 {
            _ = try session.run([input: x])
            XCTAssertGreaterThan(count.taking(), 0)
        }
    }
}
