import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// ONNX's own backend node tests, at rtol 1e-3 / atol 1e-5.
final class ConformanceTests: EngineTestCase {
    func testEveryNodeTestInTheSupportedSetPasses() throws {
        let root = try TestData.require(TestData.shared.appendingPathComponent("onnx-node-tests"))
        let suite = ConformanceSuite(rtol: 1e-3, atol: 1e-5)
        let outcomes = try suite.testDirectories(in: root).map(suite.run)
        let failed = outcomes.filter { $0.status == .failed }
        let passed = outcomes.filter { $0.status == .passed }
        for failure in failed { XCTFail("\(failure.test): \(failure.detail)") }
        XCTAssertGreaterThanOrEqual(passed.count, 330)
        // Skips are allowed only for the three documented reasons.
        for skip in outcomes where skip.status == .skipped {
            let allowed = skip.test.hasPrefix("test_training_dropout")
                || skip.detail.contains("is outside the supported set")
                || skip.detail.contains("Sequence/Optional")
            XCTAssertTrue(allowed, "\(skip.test) skipped for an undocumented reason: \(skip.detail)")
        }
    }

    /// The second selection (../shared/onnx-node-tests-next): the ops real exports need next
    /// (recurrent, indexing, comparisons, normalisations, vision and quantisation ops). Every
    /// test passes but those of exotic element types (bfloat16, float8, float4, int4, int2).
    func testTheNextSelectionPasses() throws {
        let root = try TestData.require(TestData.shared.appendingPathComponent("onnx-node-tests-next"))
        let suite = ConformanceSuite(rtol: 1e-3, atol: 1e-5)
        let outcomes = try suite.testDirectories(in: root).map(suite.run)
        for failure in outcomes where failure.status == .failed { XCTFail("\(failure.test): \(failure.detail)") }
        XCTAssertGreaterThanOrEqual(outcomes.filter { $0.status == .passed }.count, 398)
        for skip in outcomes where skip.status == .skipped {
            XCTAssertTrue(skip.detail.contains("is outside the supported set") || skip.detail.contains("Sequence/Optional"),
                          "\(skip.test) skipped for an undocumented reason: \(skip.detail)")
        }
    }

    func testAComparisonThatIsOffFails() throws {
        // The suite must be able to fail: a wrong expected value is reported with its index.
        let suite = ConformanceSuite()
        let actual = Tensor(shape: [3], floats: [1, 2, 3])
        XCTAssertNil(suite.compare(actual, Tensor(shape: [3], floats: [1, 2, 3.002])))
        XCTAssertNotNil(suite.compare(actual, Tensor(shape: [3], floats: [1, 2, 3.01])))
        XCTAssertNotNil(suite.compare(actual, Tensor(shape: [1, 3], floats: [1, 2, 3])))
    }
}
