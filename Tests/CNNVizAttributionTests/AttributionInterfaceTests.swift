import CNNVizAttribution
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import XCTest

/// `AttributionMethod.explain`: every method of both families through one request, on a batch
/// with one target per image, gives one finite [B, H, W] map per image, and per-image targets
/// give the single-image maps.
final class AttributionInterfaceTests: EngineTestCase {
    func testEveryMethodExplainsABatchWithPerImageTargets() throws {
        let session = try Session(model: EmbeddedShapesModel.model())
        let scenes = try SceneGenerator(seed: 40).scenes(0..<2)
        let input = try ShapesModel.batch(scenes.map(\.image))
        let (height, width) = (input.shape[2], input.shape[3])
        for method in AttributionMethod.all {
            var request = AttributionRequest(targets: [ClassTarget(0), ClassTarget(3)])
            request.gradient.steps = 8
            let both = try method.explain(input, session: session, request: request)
            XCTAssertEqual(both.method, method.name)
            XCTAssertEqual(both.map.shape, [2, height, width], method.name)
            XCTAssertTrue(both.map.floats.allSatisfy(\.isFinite), method.name)
            XCTAssertEqual(both.scores.count, 2, method.name)
            // Image 1 alone with its own class: the same map (batching and per-image targets
            // change nothing), to float32 rounding.
            request.targets = [ClassTarget(3)]
            let single = try method.explain(input.slice(1..<2), session: session, request: request)
            assertClose(Array(both.map.floats[(height * width)...]), single.map.floats, Tolerance(absolute: 1e-5, relative: 1e-4),
                        method.name)
        }
    }
}
