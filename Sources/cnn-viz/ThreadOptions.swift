import ArgumentParser
import CNNVizRuntime

/// `--threads N`: one thread count for cnn-viz's workers and oneDNN's (`CNNVizEngine.setThreads`).
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for every parallel kernel (cnn-viz's and oneDNN's). Default: CNNVIZ_THREADS, else the cores this process may use.")
    var threads: Int?

    /// Sets the count while the options are read, before any kernel has started the pool.
    func validate() throws {
        guard let threads else { return }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be between 1 and 1024, found \(threads)") }
        CNNVizEngine.setThreads(threads)
    }
}
