import CNNVizImaging
import CNNVizTestSupport
import Foundation
import XCTest

/// `cnn-viz visualize` as a user runs it: byte-identical files for the same seed, dataset
/// examples with an unreadable image among them, and errors that name the option.
final class VisualizeCommandTests: XCTestCase {
    var out: URL!

    override func setUpWithError() throws {
        out = FileManager.default.temporaryDirectory.appendingPathComponent("visualize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: out) }

    var samples: URL { TestData.repositoryRoot.appendingPathComponent("samples/images") }

    /// The same command and seed twice: every file byte for byte the same (images, grid,
    /// report picture, page); another seed changes the images.
    func testSameSeedGivesByteIdenticalFiles() throws {
        func run(_ name: String, seed: String) throws -> [String: Data] {
            let directory = out.appendingPathComponent(name)
            let (status, _, errors) = try TestData.runBinary(["visualize", "--layer", "relu3", "--channels", "0-2", "--steps", "6", "--seed", seed,
                                                              "--examples", samples.path, "--top-k", "3", "--out", directory.path])
            XCTAssertEqual(status, 0, errors)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            return Dictionary(uniqueKeysWithValues: try files.map { ($0, try Data(contentsOf: directory.appendingPathComponent($0))) })
        }
        let first = try run("a", seed: "7"), second = try run("b", seed: "7"), other = try run("c", seed: "8")
        XCTAssertEqual(Set(first.keys), ["channel_0.png", "channel_1.png", "channel_2.png", "grid.png", "channels.png", "visualize.html"])
        for (name, data) in first { XCTAssertEqual(data, second[name], "\(name) differs between two runs with one seed") }
        XCTAssertNotEqual(first["channel_0.png"], other["channel_0.png"])
    }

    /// --examples over a folder holding a truncated PNG: it is reported and skipped (exit 4),
    /// each channel still gets its examples, with boxes inside the photos.
    func testExamplesSkipAnUnreadableImage() throws {
        let folder = out.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["star_1.png", "circle_1.png", "cross_1.png"] {
            try FileManager.default.copyItem(at: samples.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try Data(try Data(contentsOf: samples.appendingPathComponent("star_1.png")).prefix(200)).write(to: folder.appendingPathComponent("broken.png"))
        let (status, output, errors) = try TestData.runBinary(["visualize", "--layer", "relu4", "--channels", "0,5", "--steps", "2", "--examples", folder.path,
                                                               "--top-k", "2", "--out", out.appendingPathComponent("report").path, "--json"])
        XCTAssertEqual(status, 4, errors)
        XCTAssertTrue(errors.contains("broken.png"), errors)
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let examples = try XCTUnwrap(manifest["examples"] as? [[[String: Any]]])
        XCTAssertEqual(examples.map(\.count), [2, 2])
        for example in examples.joined() {
            let box = try XCTUnwrap(example["box"] as? [Int])
            XCTAssertTrue(box[0] >= 0 && box[1] >= 0 && box[0] < box[2] && box[1] < box[3] && box[2] <= 64 && box[3] <= 64, "\(box)")
        }
        XCTAssertEqual((manifest["skipped"] as? [[String: Any]])?.count, 1)
    }

    /// --checkpoint: the same objectives and seed on each checkpoint, one row each in
    /// evolution.png; a checkpoint that is the model itself gives the model's own images.
    func testCheckpointsDrawAnEvolution() throws {
        let directory = out.appendingPathComponent("evolution")
        let checkpoint = TestData.repositoryRoot.appendingPathComponent("samples/models/shapes.onnx").path
        let (status, output, errors) = try TestData.runBinary(["visualize", "--layer", "relu4", "--channels", "0-1", "--steps", "3", "--checkpoint", checkpoint,
                                                               "--checkpoint", checkpoint, "--out", directory.path, "--json"])
        XCTAssertEqual(status, 0, errors)
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let evolution = try XCTUnwrap(manifest["evolution"] as? String)
        let picture = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: evolution))
        XCTAssertGreaterThan(picture.height, 3 * 64, "three rows of 64-pixel images (two checkpoints and the model)")
    }

    /// Bad options are errors naming the option and what was expected.
    func testBadOptionsAreNamed() throws {
        for (arguments, words) in [(["--layer", "relu4", "--channels", "3-1"], "--channels"),
                                   (["--layer", "relu4", "--transforms", "spin=3"], "--transforms"),
                                   (["--layer", "relu4", "--channels", "999"], "out of range"),
                                   (["--layer", "no_such_layer"], "no_such_layer"),
                                   (["--class", "dragon"], "dragon")] {
            let (status, _, errors) = try TestData.runBinary(["visualize"] + arguments + ["--steps", "1", "--out", out.appendingPathComponent("bad").path])
            XCTAssertNotEqual(status, 0, "\(arguments)")
            XCTAssertTrue(errors.contains(words), "\(arguments): \(errors)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("bad").path), "nothing written on errors")
    }
}
