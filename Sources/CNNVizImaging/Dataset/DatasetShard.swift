import CNNVizRuntime

/// One shard of a run split across processes or machines: image i of the sorted list belongs
/// to shard i mod count, so every image is in exactly one shard, whatever the machine.
///
/// From the command line `--shard I/N` (I counts from 0); from a cluster's job array:
/// Kubernetes Indexed Jobs set `JOB_COMPLETION_INDEX` (the count is `--shards N`), Slurm
/// arrays set `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` (and `SLURM_ARRAY_TASK_MIN`
/// when the array does not start at 0: `--array=1-4` gives IDs 1…4, shards 0…3).
/// Pitfall: a Slurm array with a step (`--array=0-15:4`) has IDs that are not consecutive;
/// it is refused rather than leaving shards empty.
public struct DatasetShard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let whole = DatasetShard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// "I/N", with 0 ≤ I < N.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, (0..<count).contains(index) else {
            throw CNNVizError(.invalidArgument, "--shard expects I/N with 0 ≤ I < N (e.g. 0/4), found '\(text)'")
        }
        self.init(index: index, count: count)
    }

    /// The shard a job array's environment names, or nil outside one. `shards` is `--shards N`,
    /// which a Kubernetes Indexed Job needs (its environment has no count). In a Slurm array,
    /// with `--shards N` the shard is the task id itself (`--array=0-3` with `--shards 4`), so
    /// that a task resubmitted alone (`--array=2`) is still shard 2 of 4; without it, the task's
    /// place in its array (id − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT).
    public static func fromEnvironment(_ environment: [String: String], shards: Int?) throws -> DatasetShard? {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw CNNVizError(.invalidArgument, "the environment variable \(name) should be a non-negative integer, found '\(text)'")
            }
            return value
        }
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            if let shards {
                guard id < shards else {
                    throw CNNVizError(.invalidArgument, "SLURM_ARRAY_TASK_ID is \(id), not below --shards \(shards); use --array=0-\(shards - 1)")
                }
                return DatasetShard(index: id, count: shards)
            }
            guard let count = try number("SLURM_ARRAY_TASK_COUNT") ?? shards else {
                throw CNNVizError(.invalidArgument, "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT; give --shards N")
            }
            let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            if let step = try number("SLURM_ARRAY_TASK_STEP"), step != 1 {
                throw CNNVizError(.invalidArgument, "a Slurm array with step \(step) has gaps between its task IDs; use --array=0-\(count - 1)")
            }
            return try DatasetShard(parsing: "\(id - first)/\(count)")
        }
        if let index = try number("JOB_COMPLETION_INDEX") {
            guard let shards else {
                throw CNNVizError(.invalidArgument, "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give --shards N, the Job's completions")
            }
            return try DatasetShard(parsing: "\(index)/\(shards)")
        }
        return nil
    }

    /// Whether the image at `position` of the sorted list is this shard's.
    public func contains(position: Int) -> Bool { position % count == index }

    /// This shard's items, in order.
    public func items(of all: [DatasetItem]) -> [DatasetItem] {
        positionedItems(of: all).map(\.item)
    }

    /// This shard's items with their positions in the whole list (which merges sort by).
    public func positionedItems(of all: [DatasetItem]) -> [(position: Int, item: DatasetItem)] {
        all.enumerated().filter { contains(position: $0.offset) }.map { ($0.offset, $0.element) }
    }

    public var description: String { "\(index)/\(count)" }
}
