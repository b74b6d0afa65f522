import ArgumentParser
import CNNVizImaging
import CNNVizRuntime
import Foundation

/// The inputs of every command that takes images: files, folders and globs, a manifest, a
/// subset, and this process's shard (`DatasetListing`, `DatasetShard`).
struct DatasetOptions: ParsableArguments {
    @Argument(help: "PNG or JPEG images, folders (every image below them, sorted) or quoted globs.")
    var images: [String] = []

    @Option(name: .long, help: "A CSV or JSON Lines file of images: a path column (relative to the manifest's folder) and optional label, box and mask columns.")
    var manifest: String?

    @Option(name: .long, help: "Take the first N images (after --sample).")
    var limit: Int?

    @Option(name: .long, help: "Take a random subset of N images, the same for the same --sample-seed.")
    var sample: Int?

    @Option(name: .long, help: "The seed of --sample (saliency's --seed is its noise's).")
    var sampleSeed: UInt64 = 0

    @Option(name: .long, help: "Process shard I of N (I from 0): image k of the sorted list belongs to shard k mod N. Also read from JOB_COMPLETION_INDEX (with --shards) and SLURM_ARRAY_TASK_ID/COUNT.")
    var shard: String?

    @Option(name: .long, help: "The number of shards of a Kubernetes Indexed Job (its completions), with JOB_COMPLETION_INDEX.")
    var shards: Int?

    @Flag(name: .long, help: "Stop at the first image that fails, instead of recording it and going on.")
    var failFast = false

    /// No image and no manifest: the command's other input (a tensor) or nothing.
    var isEmpty: Bool { images.isEmpty && manifest == nil }

    func validate() throws {
        guard limit.map({ $0 >= 1 }) ?? true, sample.map({ $0 >= 1 }) ?? true else { throw ValidationError("--limit and --sample must be at least 1") }
        if let shard { _ = try DatasetShard(parsing: shard) }
        guard shards.map({ $0 >= 1 }) ?? true else { throw ValidationError("--shards must be at least 1") }
    }

    /// The dataset's images in sorted order, this process's shard of them with their positions
    /// in the whole list, and whether the run is a dataset (more than one image, or a shard)
    /// rather than one image. Only commands whose shards `cnn-viz merge` combines read the
    /// shard from a job array's environment (`readsEnvironment`); the others take `--shard`
    /// alone, so that `predict` in a pod of an Indexed Job still sees every image it is given.
    func items(readsEnvironment: Bool = false) throws -> (items: [(position: Int, item: DatasetItem)], isDataset: Bool, shard: DatasetShard) {
        let all = try DatasetListing(sources: images, manifest: manifest.map { URL(fileURLWithPath: $0) }, limit: limit,
                                     sample: sample, seed: sampleSeed).items()
        let environment = readsEnvironment ? try DatasetShard.fromEnvironment(ProcessInfo.processInfo.environment, shards: shards) : nil
        let shard = try self.shard.map { try DatasetShard(parsing: $0) } ?? environment ?? .whole
        return (shard.positionedItems(of: all), all.count > 1 || shard.count > 1, shard)
    }

    /// Runs `body` on each item. An item that fails for a reason of its own (`isAbout`) is
    /// recorded, reported on stderr, and the loop goes on, unless `--fail-fast` or the run is a
    /// single image; any other error stops the loop.
    func forEach(_ items: [(position: Int, item: DatasetItem)], isDataset: Bool,
                 _ body: (_ position: Int, _ item: DatasetItem) throws -> Void) throws -> [DatasetRecord.Failure] {
        var failures = [DatasetRecord.Failure]()
        for (position, item) in items {
            do { try body(position, item) } catch let error as CNNVizError where isDataset && !failFast && Self.isAbout(item, error) {
                let failure = DatasetRecord.Failure(item: item, error: error)
                FileHandle.standardError.write(Data((failure.message + "\n").utf8))
                failures.append(failure)
            }
        }
        return failures
    }

    /// Whether an error is the input's own (located at its file), not the model's or the options'.
    static func isAbout(_ item: DatasetItem, _ error: CNNVizError) -> Bool {
        let paths = [item.path, URL(fileURLWithPath: item.path).path]
        return [error.location, error.file].contains { $0.map(paths.contains) ?? false }
    }

    /// The exit status of a run in which some inputs failed and the others completed.
    static let someInputsFailed: Int32 = 4
}
