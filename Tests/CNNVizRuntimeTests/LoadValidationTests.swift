import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The loader refuses invalid models before anything runs, as onnx.checker and onnxruntime
/// do: one model per category (scripts/reference/invalid_models.py builds them and records
/// onnxruntime's verdict). Every model that onnxruntime refuses at load time, cnn-viz refuses
/// too, naming the file, the node and what it expected.
final class LoadValidationTests: EngineTestCase {
    struct Corpus: Decodable {
        struct Entry: Decodable {
            var name: String, file: String, category: String, node: String?, fragments: [String], ort_refuses: Bool
        }
        var models: [Entry]
    }

    func testEveryInvalidModelIsRefusedWithTheFileTheNodeAndTheReason() throws {
        let url = try TestData.require(TestData.referenceDirectory.appendingPathComponent("invalid/invalid.json"))
        let corpus = try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: url))
        XCTAssertGreaterThanOrEqual(Set(corpus.models.map(\.category)).count, 10)
        XCTAssertGreaterThanOrEqual(corpus.models.filter(\.ort_refuses).count, corpus.models.count - 1)
        for entry in corpus.models {
            XCTAssertThrowsError(try Session(contentsOf: URL(fileURLWithPath: entry.file)), entry.name) { error in
                guard let error = error as? CNNVizError else { return XCTFail("\(entry.name): \(error) is not a CNNVizError") }
                let text = error.description
                XCTAssertTrue(text.contains(entry.file), "\(entry.name): '\(text)' should name the file")
                XCTAssertEqual(error.file, entry.file, entry.name)
                if let node = entry.node {
                    XCTAssertTrue(text.contains("node '\(node)'"), "\(entry.name): '\(text)' should name node '\(node)'")
                }
                for fragment in entry.fragments {
                    XCTAssertTrue(text.contains(fragment), "\(entry.name): '\(text)' should say '\(fragment)'")
                }
            }
        }
    }
}
