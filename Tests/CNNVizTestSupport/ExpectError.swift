import CNNVizRuntime
import XCTest

extension XCTestCase {
    /// `body` must throw a CNNVizError of `code` whose description mentions every fragment.
    public func expectError(_ code: CNNVizError.Code, containing fragments: [String], _ body: () throws -> Void,
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected a \(code) error", file: file, line: line)
        } catch let error as CNNVizError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "'\(error)' should mention '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected CNNVizError, got \(error)", file: file, line: line)
        }
    }
}
