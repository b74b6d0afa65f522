import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Point 5 of the command-line issue: every subcommand's `--help` has an EXAMPLES section and
/// each example runs as printed; every fix that an error message suggests, added to the
/// failing command, makes it succeed.
final class HelpExampleTests: EngineTestCase {
    var workspace: URL!

    /// A folder holding what the examples name: samples/, photo.jpg, squeezenet1.1.onnx,
    /// synset.txt, x.npy and onnx/backend/test/data/node (the ONNX node tests).
    override func setUpWithError() throws {
        try super.setUpWithError()
        workspace = FileManager.default.temporaryDirectory.appendingPathComponent("examples-\(UUID().uuidString)")
        let nodeTests = workspace.appendingPathComponent("onnx/backend/test/data")
        try FileManager.default.createDirectory(at: nodeTests, withIntermediateDirectories: true)
        let links: [(String, URL)] = [
            ("samples", TestData.repositoryRoot.appendingPathComponent("samples")),
            ("photo.jpg", try TestData.image("winml_cat.jpg")),
            ("squeezenet1.1.onnx", try TestData.model("squeezenet1.1_fp32_from_winml_fp16.onnx")),
            ("synset.txt", try TestData.require(TestData.shared.appendingPathComponent("data/labels/imagenet_synset.txt"))),
            ("onnx/backend/test/data/node", try TestData.require(TestData.shared.appendingPathComponent("onnx-node-tests"))),
        ]
        for (name, target) in links {
            try FileManager.default.createSymbolicLink(at: workspace.appendingPathComponent(name), withDestinationURL: target)
        }
        var random = SeededRandom(state: 5)
        try NumpyFile.write(random.tensor([1, 3, 64, 64], scale: 1), to: workspace.appendingPathComponent("x.npy"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workspace)
        try super.tearDownWithError()
    }

    /// Runs a shell command line in the workspace, `cnn-viz` being the release binary.
    func shell(_ line: String) throws -> (status: Int32, errors: String) {
        let command = try TestData.require(TestData.binary).path + line.dropFirst("cnn-viz".count)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = workspace
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, message)
    }

    /// The EXAMPLES lines of `cnn-viz help PATH`, unwrapped (the help text wraps at 80 columns).
    func examples(_ path: [String]) throws -> [String] {
        let (status, output, errors) = try TestData.runBinary(["help"] + path)
        XCTAssertEqual(status, 0, errors)
        let lines = String(decoding: output, as: UTF8.self).components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "EXAMPLES:") else { return [] }
        var commands = [String]()
        for line in lines[(start + 1)...] {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            if line.hasPrefix("  cnn-viz ") { commands.append(String(line.dropFirst(2))) } else { commands[commands.count - 1] += " " + line }
        }
        return commands
    }

    func testEverySubcommandHasExamplesThatRun() throws {
        let paths: [[String]] = [[], ["run"], ["conformance"], ["predict"], ["summary"], ["activations"], ["filters"], ["report"],
                                 ["gradcam"], ["saliency"], ["diff"], ["stats"], ["shapes"], ["shapes", "generate"],
                                 ["shapes", "eval"], ["train"], ["train", "shapes"]]
        var ran = Set<String>()
        for path in paths {
            let lines = try examples(path)
            XCTAssertFalse(lines.isEmpty, "cnn-viz help \(path.joined(separator: " ")) has no EXAMPLES")
            for line in lines where ran.insert(line).inserted {
                let (status, errors) = try shell(line)
                let allowed: Set<Int32> = path == ["diff"] ? [0, 3] : [0]
                XCTAssert(allowed.contains(status), "\(line) exited \(status): \(errors)")
            }
        }
        XCTAssertGreaterThanOrEqual(ran.count, 20)
        let (status, output, _) = try TestData.runBinary(["--version"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(String(decoding: output, as: UTF8.self).hasPrefix("cnn-viz \(CNNVizVersion.current)"))
    }

    /// Each error below names a fix; the failing command with the fix added succeeds.
    func testEverySuggestedFixWorks() throws {
        // A CIFAR-sized model (32×32 RGB, 10 classes), built with the onnx package.
        _ = try TestData.python("""
            import numpy as np, onnx
            from onnx import helper, numpy_helper, TensorProto
            rng = np.random.RandomState(3)
            inits = [numpy_helper.from_array(rng.randn(4, 3, 3, 3).astype(np.float32), 'w'),
                     numpy_helper.from_array(rng.randn(10, 4).astype(np.float32), 'fc')]
            nodes = [helper.make_node('Conv', ['x', 'w'], ['conv'], pads=[1, 1, 1, 1], name='conv'),
                     helper.make_node('Relu', ['conv'], ['relu'], name='relu'),
                     helper.make_node('GlobalAveragePool', ['relu'], ['pool']),
                     helper.make_node('Flatten', ['pool'], ['flat']),
                     helper.make_node('Gemm', ['flat', 'fc'], ['logits'], transB=1)]
            graph = helper.make_graph(nodes, 'cifar', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 32, 32])],
                                      [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 10])], inits)
            onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), '\(workspace.path)/cifar.onnx')
            """, modules: ["numpy", "onnx"])
        let squeeze = "--model squeezenet1.1.onnx --preprocess caffe --labels synset.txt"
        let cases: [(failing: String, fixes: [String])] = [
            ("cnn-viz predict photo.jpg --model cifar.onnx --preprocess imagenet", ["--size 37 --crop 32", "--resize-only"]),
            ("cnn-viz predict photo.jpg --model squeezenet1.1.onnx --preprocess mnist", ["--preprocess imagenet", "--preprocess caffe"]),
            ("cnn-viz gradcam photo.jpg \(squeeze) --layer fire9 --out g", ["--layer fire9/concat_1"]),
            ("cnn-viz gradcam photo.jpg \(squeeze) --class tabbby --out g", ["--class tabby"]),
            ("cnn-viz gradcam photo.jpg \(squeeze) --top 21 --out g", ["--force"]),
        ]
        for (failing, fixes) in cases {
            let (status, errors) = try shell(failing)
            XCTAssertNotEqual(status, 0, failing)
            for fix in fixes {
                let shown = fix.hasPrefix("--layer ") || fix.hasPrefix("--class ") ? String(fix.split(separator: " ")[1]) : fix
                XCTAssertTrue(errors.contains(shown), "\(failing): the error should suggest '\(shown)': \(errors)")
                // A suggested name replaces the wrong one; an added option is appended.
                let option = fix.split(separator: " ")[0]
                let fixed = fix.hasPrefix("--layer ") || fix.hasPrefix("--class ") || fix.hasPrefix("--preprocess ")
                    ? failing.replacingOccurrences(of: #"\#(option) \S+"#, with: fix, options: .regularExpression) : failing + " " + fix
                let (fixedStatus, fixedErrors) = try shell(fixed)
                XCTAssertEqual(fixedStatus, 0, "\(fixed): \(fixedErrors)")
            }
        }
        // An exact --size alone is the size fed: the preset's 224 crop does not cut into it.
        let (exactStatus, exactErrors) = try shell("cnn-viz predict photo.jpg --model cifar.onnx --preprocess imagenet --size 32x32")
        XCTAssertEqual(exactStatus, 0, exactErrors)
        // Without --preprocess the 32×32 model gets the cifar preset, and stderr says so.
        let (status, errors) = try shell("cnn-viz predict photo.jpg --model cifar.onnx")
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("assuming --preprocess cifar"), errors)
        let (embeddedStatus, embeddedErrors) = try shell("cnn-viz predict photo.jpg")
        XCTAssertEqual(embeddedStatus, 0)
        XCTAssertTrue(embeddedErrors.contains("using the embedded shapes model (no --model given)"), embeddedErrors)
    }

    /// File errors say what is wrong in plain words and name the file, on every command.
    func testFileErrorsSayWhatIsWrong() throws {
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("folder"), withIntermediateDirectories: true)
        for (file, words) in [("missing.png", "there is no such file"), ("folder", "it is a directory, not a file"),
                              ("/dev/null", "not a regular file"), ("/dev/zero", "it is a character device, not a regular file")] {
            for line in ["cnn-viz predict \(file)", "cnn-viz gradcam \(file)", "cnn-viz summary --model \(file)",
                         "cnn-viz run --model samples/models/shapes.onnx --tensor \(file)"] {
                let (status, errors) = try shell(line)
                XCTAssertEqual(status, 1, line)
                // predict and gradcam take folders as datasets: an empty one says it holds no image.
                let takesFolders = line.hasPrefix("cnn-viz gradcam") || line.hasPrefix("cnn-viz predict")
                let expected = file == "folder" && takesFolders ? "the folder holds no .png, .jpg or .jpeg image" : words
                XCTAssertTrue(errors.contains(expected) && errors.contains(file), "\(line): \(errors)")
                XCTAssertFalse(errors.contains("NSCocoaErrorDomain"), "\(line): \(errors)")
            }
        }
    }
}
