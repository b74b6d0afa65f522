import ArgumentParser
import CNNVizRender
import CNNVizRuntime
import CNNVizShapes
import Foundation

/// `cnn-viz shapes generate|eval`: the generated scenes of the default model's world.
struct ShapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Generate labelled shape scenes, or score a model and its attributions on fresh ones.",
        discussion: HelpExamples.discussion("shapes"),
        subcommands: [ShapesGenerateCommand.self, ShapesEvalCommand.self]
    )
}

struct ShapesGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write N scenes as PNGs plus scenes.json with each object's class, box and mask.",
        discussion: HelpExamples.discussion("shapes generate")
    )

    @Option(name: .long, help: "How many scenes.")
    var count = 16

    @Option(name: .long, help: "The generator seed; the same seed always gives the same scenes.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "The share of scenes with two objects of different classes, 0 to 1.")
    var twoObjects = 0.3

    @Option(name: .long, help: "The scene side in pixels.")
    var size = ShapesModel.side

    @Option(name: .long, help: "The output directory.")
    var out = "shapes"

    @Flag(name: .long, help: "Print the annotations as JSON on standard output as well.")
    var json = false

    func validate() throws {
        guard SceneGenerator.sizes.contains(size) else {
            throw ValidationError("--size must be \(SceneGenerator.sizes.lowerBound) to \(SceneGenerator.sizes.upperBound) pixels, found \(size)")
        }
        guard twoObjects.isFinite, (0...1).contains(twoObjects) else { throw ValidationError("--two-objects must be 0 to 1, found \(twoObjects)") }
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            guard (1...100_000).contains(count) else {
                throw CNNVizError(.invalidArgument, "--count must be 1 to 100000, found \(count)")
            }
            guard (0...1).contains(twoObjects) else {
                throw CNNVizError(.invalidArgument, "--two-objects is a share between 0 and 1, found \(twoObjects)")
            }
            let generator = SceneGenerator(seed: seed, size: size, twoObjectFraction: twoObjects)
            let scenes = try generator.scenes(0..<count)
            let directory = URL(fileURLWithPath: out)
            try createOutputDirectory(directory)
            var files = [(file: String, scene: Scene)]()
            for scene in scenes {
                let name = String(format: "scene_%05d_%@.png", scene.index, scene.classes.map(\.name).joined(separator: "+"))
                try Picture(image: scene.image).write(to: directory.appendingPathComponent(name))
                files.append((name, scene))
            }
            let annotations = SceneAnnotations(seed: seed, size: size, scenes: files)
            try AtomicFile.write(try jsonData(annotations), to: directory.appendingPathComponent("scenes.json"))
            if json { try printJSON(annotations) } else {
                print("wrote \(count) scenes and scenes.json to \(directory.path)")
            }
        }
    }
}
