import Foundation
import XCTest

/// Where the tests find data they did not make: `../shared` beside the repository (or
/// $CNNVIZ_SHARED), and the references that `make test` generates into `.build/reference`.
/// Under CI=true a missing file fails the test; elsewhere it skips it.
enum TestData {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["CNNVIZ_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static var referenceDirectory: URL { repositoryRoot.appendingPathComponent(".build/reference") }
    static var binary: URL { repositoryRoot.appendingPathComponent(".build/release/cnn-viz") }

    /// The file, or a failure (CI) / skip (elsewhere) when it is missing.
    static func require(_ url: URL) throws -> URL {
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("missing test data \(url.path) (CI=true: tests that need ../shared fail instead of skipping)")
            throw XCTSkip("missing \(url.path)")
        }
        throw XCTSkip("missing test data \(url.path); run `make test` with ../shared beside the repository")
    }

    static func model(_ name: String) throws -> URL { try require(shared.appendingPathComponent("data/models/\(name)")) }
    static func image(_ name: String) throws -> URL { try require(shared.appendingPathComponent("data/images/\(name)")) }
}
