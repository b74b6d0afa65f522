import Foundation
import XCTest

/// Where the tests find data they did not make: `../shared` beside the repository (or
/// $CNNVIZ_SHARED), and the references that `make test` generates into `.build/reference`.
/// Under CI=true a missing file fails the test; elsewhere it skips it.
public enum TestData {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["CNNVIZ_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    public static var referenceDirectory: URL { repositoryRoot.appendingPathComponent(".build/reference") }
    public static var binary: URL { repositoryRoot.appendingPathComponent(".build/release/cnn-viz") }

    /// The file, or a failure (CI) / skip (elsewhere) when it is missing.
    public static func require(_ url: URL) throws -> URL {
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("missing test data \(url.path) (CI=true: tests that need ../shared fail instead of skipping)")
            throw XCTSkip("missing \(url.path)")
        }
        throw XCTSkip("missing test data \(url.path); run `make test` with ../shared beside the repository")
    }

    /// A reference manifest under `.build/reference` (snake_case keys, as the Python scripts
    /// write them), or a failure (CI) / skip when `make test` has not written it.
    public static func manifest<T: Decodable>(_ type: T.Type, at path: String) throws -> T {
        let url = try require(referenceDirectory.appendingPathComponent(path))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(contentsOf: url))
    }

    public static func model(_ name: String) throws -> URL { try require(shared.appendingPathComponent("data/models/\(name)")) }
    public static func image(_ name: String) throws -> URL { try require(shared.appendingPathComponent("data/images/\(name)")) }

    /// Runs a program (in `directory`, else the current one); returns its exit status, stdout and stderr.
    public static func runProcess(_ executable: URL, _ arguments: [String],
                           in directory: URL? = nil) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, data, message)
    }

    /// Runs the release cnn-viz binary (`make test` builds it).
    public static func runBinary(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        try runProcess(try require(binary), arguments)
    }

    /// Runs cnn-viz with `--json`, expecting success, and returns the parsed JSON object.
    public static func runJSON(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let (status, output, errors) = try runBinary(arguments + ["--json"])
        XCTAssertEqual(status, 0, errors, file: file, line: line)
        guard let object = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any] else {
            XCTFail("cnn-viz \(arguments.first ?? "") printed no JSON object (status \(status)): \(errors)", file: file, line: line)
            throw NoJSON()
        }
        return object
    }

    public struct NoJSON: Error {}

    /// Runs a Python script and returns its stdout. A machine without python3 and `modules`
    /// skips (fails under CI=true); a script that fails fails the test with its stderr.
    public static func python(_ script: String, modules: [String] = ["numpy"], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        func run(_ code: String) throws -> (Int32, String, String) {
            let (status, output, errors) = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", code])
            return (status, String(decoding: output, as: UTF8.self), errors)
        }
        let imports = "import " + modules.joined(separator: ", ")
        guard let probe = try? run(imports), probe.0 == 0 else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("python3 with \(modules) is required under CI=true") }
            throw XCTSkip("python3 with \(modules) is not available")
        }
        let (status, text, message) = try run(script)
        XCTAssertEqual(status, 0, "python failed: \(message)", file: file, line: line)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
