import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The worker pool hands each index of each job to exactly one thread, even when short jobs of
/// very different sizes follow each other back to back (the pattern of a training step, where
/// an untagged claim counter once let a late helper run an item of the next job twice).
final class WorkerPoolTests: EngineTestCase {
    func testEveryIndexRunsExactlyOnceAcrossBackToBackJobsOfDifferentSizes() {
        let sizes = [2, 97, 3, 1000, 5, 64, 2, 31]
        let largest = sizes.max()!
        var runs = [Int32](repeating: 0, count: largest)
        for round in 0..<40_000 {
            let count = sizes[round % sizes.count]
            runs.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress!
                Parallel.forEach(count) { index in base[index] += 1 }
            }
            if round % 997 == 0 || round == 39_999 {
                XCTAssertTrue(runs.prefix(count).allSatisfy { $0 == 1 }, "round \(round): an index ran \(runs.prefix(count).max()!) times")
                XCTAssertTrue(runs.dropFirst(count).allSatisfy { $0 == 0 }, "round \(round): an index beyond the job's count ran")
            } else if runs.prefix(count).contains(where: { $0 != 1 }) || runs.dropFirst(count).contains(where: { $0 != 0 }) {
                XCTFail("round \(round) (count \(count)): indices ran \(runs.prefix(count)) times")
                return
            }
            for index in 0..<largest { runs[index] = 0 }
        }
    }
}
