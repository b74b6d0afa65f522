import Foundation

/// The files a command has read: no output may replace one of them.
///
/// Every reader of a user file (`ONNXImporter.load`, `NumpyFile.read`, `ImageDecoder.decode`,
/// `ClassLabels.load`) registers its path, and `AtomicFile.write` refuses to write over a
/// registered path, so `stats in.png --html in.png` fails instead of replacing the image.
/// Commands also call `checkOutputs` with their explicit output paths before anything runs.
/// Paths compare after resolving symlinks and `..`, so a link to the model is the model.
public enum InputProtection {
    nonisolated(unsafe) private static var paths = Set<String>()
    private static let lock = NSLock()

    static func canonical(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }

    /// Marks files as inputs of the running command.
    public static func protect(_ urls: [URL]) {
        lock.lock()
        defer { lock.unlock() }
        for url in urls { paths.insert(canonical(url)) }
    }

    /// Throws when `output` is a file the command reads.
    public static func check(output url: URL) throws {
        lock.lock()
        let clash = paths.contains(canonical(url))
        lock.unlock()
        if clash {
            throw CNNVizError(.invalidArgument, "refusing to write \(url.path): it is an input of this command, and writing would destroy it",
                              location: url.path)
        }
    }

    /// Before anything runs: each output path against each input path (and against each other).
    public static func checkOutputs(_ outputs: [URL], inputs: [URL]) throws {
        protect(inputs)
        for output in outputs { try check(output: output) }
    }
}
