import Foundation

/// The files a command has read: no output may replace one of them.
///
/// Every reader of a user file (`ONNXImporter.load`, `NumpyFile.read`, `ImageDecoder.decode`,
/// `ClassLabels.load`) registers its path, and `AtomicFile.write` refuses to write over a
/// registered path, so `stats in.png --html in.png` fails instead of replacing the image.
/// Commands also call `checkOutputs` with their explicit output paths before anything runs.
/// Paths compare after resolving symlinks and `..`, so a link to the model is the model.
/// Off until `enable()`: the command line turns it on for its one command per process; a
/// long-running program that reads and later rewrites its own files leaves it off.
public enum InputProtection {
    nonisolated(unsafe) private static var paths = Set<String>()
    nonisolated(unsafe) private static var enabled = false
    private static let lock = NSLock()

    /// Starts recording inputs and refusing writes over them, for the rest of the process.
    public static func enable() {
        lock.lock()
        enabled = true
        lock.unlock()
    }

    static func canonical(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }

    /// Whether `enable()` was called (the command line's one-command-per-process mode).
    public static var isEnabled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return enabled
    }

    /// Marks files as inputs of the running command.
    public static func protect(_ urls: [URL]) {
        lock.lock()
        defer { lock.unlock() }
        guard enabled else { return }
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
