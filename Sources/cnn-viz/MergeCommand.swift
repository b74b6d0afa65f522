import ArgumentParser
import CNNVizRuntime
import Foundation

/// `cnn-viz merge DIR`: the shards' records of a dataset run into the run's records.jsonl,
/// index page and aggregates, the same bytes one process would have written.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the shards of a dataset run (records-shard-I-of-N.jsonl) into records.jsonl, index.html and aggregates.json.",
        discussion: HelpExamples.discussion("merge")
    )

    @Argument(help: "The --out folder that every shard wrote into.")
    var directory: String

    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    struct Summary: Encodable {
        var records: String
        var index: String
        var aggregates: String
        var shards: Int
        var images: Int
        var failed: Int
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let root = URL(fileURLWithPath: directory)
            let (records, shards) = try Self.shardRecords(in: root)
            let linesFile = DatasetRecord.linesFile(in: root, shard: .whole)
            try DatasetRecord.writeLines(records, to: linesFile)
            let page = try DatasetIndex.write(records, in: root)
            let summary = Summary(records: linesFile.path, index: page.path, aggregates: root.appendingPathComponent(DatasetIndex.aggregatesFile).path,
                                  shards: shards, images: records.count, failed: records.filter { $0.status == "failed" }.count)
            if json { try printJSON(summary) } else {
                print("merged \(shards) shards: \(summary.images) images (\(summary.failed) failed) → \(summary.records), \(summary.index)")
            }
        }
    }

    /// Every shard's records, sorted by position. Throws, naming the folder, unless the
    /// folder holds records-shard-I-of-N.jsonl for every I < N of one N, and their positions
    /// are 0..<total, each once.
    static func shardRecords(in root: URL) throws -> (records: [DatasetRecord], shards: Int) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: root.path) } catch {
            throw CNNVizError(.fileNotReadable, "cannot list the run's folder", location: root.path, cause: error)
        }
        let pattern = try NSRegularExpression(pattern: "^records-shard-([0-9]+)-of-([0-9]+)\\.jsonl$")
        let parts = names.compactMap { name -> (index: Int, count: Int, name: String)? in
            guard let match = pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)),
                  let index = Range(match.range(at: 1), in: name).flatMap({ Int(name[$0]) }),
                  let count = Range(match.range(at: 2), in: name).flatMap({ Int(name[$0]) }) else { return nil }
            return (index, count, name)
        }
        guard let count = parts.first?.count else {
            throw CNNVizError(.fileNotReadable, "no records-shard-I-of-N.jsonl files to merge (written by gradcam or saliency with --shard or a job array)",
                              location: root.path)
        }
        guard Set(parts.map(\.count)) == [count] else {
            throw CNNVizError(.invalidArgument, "the shard files come from runs of different shard counts: "
                              + parts.map(\.name).sorted().joined(separator: ", ") + "; remove the stale ones", location: root.path)
        }
        let missing = Set(0..<count).subtracting(parts.map(\.index)).sorted()
        guard missing.isEmpty else {
            throw CNNVizError(.invalidArgument, "shards \(missing.map(String.init).joined(separator: ", ")) of \(count) have not written their records yet",
                              location: root.path)
        }
        let records = try parts.sorted { $0.index < $1.index }
            .flatMap { try DatasetRecord.readLines(root.appendingPathComponent($0.name)) }
            .sorted { $0.position < $1.position }
        guard records.map(\.position) == Array(0..<records.count) else {
            throw CNNVizError(.invalidArgument, "the shards' records do not cover positions 0 to \(records.count - 1) once each "
                              + "(shards of runs over different inputs?)", location: root.path)
        }
        return (records, count)
    }
}
