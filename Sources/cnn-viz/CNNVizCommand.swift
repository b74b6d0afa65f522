import ArgumentParser
import CNNVizRuntime
import Foundation

@main
struct CNNVizCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn-viz",
        abstract: "Interpret and debug convolutional neural networks from ONNX, with no Python.",
        discussion: HelpExamples.discussion("cnn-viz"),
        version: CNNVizVersion.description,
        subcommands: [RunCommand.self, ConformanceCommand.self, PredictCommand.self, SummaryCommand.self, ActivationsCommand.self, FiltersCommand.self, VisualizeCommand.self, ReportCommand.self, GradCAMCommand.self, SaliencyCommand.self, MergeCommand.self, DiffCommand.self, StatsCommand.self, ShapesCommand.self, TrainCommand.self]
    )

    /// Runs a command body, turning cnn-viz errors into a one-line message and exit code 1.
    /// The command line takes the engine's process-wide settings (`CNNVizEngine`).
    static func reportingErrors(_ body: () throws -> Void) throws {
        CNNVizEngine.configureProcess()
        InputProtection.enable()
        do {
            try body()
        } catch let error as CNNVizError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            // Nothing half-done is left behind: the outputs written before the failure go too.
            let removed = AtomicFile.removeWrittenFiles()
            if !removed.isEmpty {
                FileHandle.standardError.write(Data("removed the \(removed.count) output file(s) written before the error\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}
