import ArgumentParser
import CNNVizReport
import CNNVizRuntime
import Foundation

/// `cnn-viz merge DIR`: the shards' records of a dataset run into the run's records.jsonl,
/// index page and aggregates, the same bytes one process would have written; and the
/// shards' partial sums of `stats` into the whole set's statistics.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the shards of a dataset run: records-shard-I-of-N.jsonl into records.jsonl, index.html and aggregates.json; stats-shard-I-of-N.json into stats.json and stats.html.",
        discussion: HelpExamples.discussion("merge")
    )

    @Argument(help: "The --out folder that every shard wrote into.")
    var directory: String

    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    struct Summary: Encodable {
        var records: String?
        var index: String?
        var aggregates: String?
        var stats: String?
        var shards: Int
        var images: Int
        var failed: Int?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let root = URL(fileURLWithPath: directory)
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: root.path) } catch {
                throw CNNVizError(.fileNotReadable, "cannot list the run's folder", location: root.path, cause: error)
            }
            var summaries = [Summary]()
            if let shards = try Self.shardFiles(named: "records", extension: "jsonl", among: names, in: root) {
                summaries.append(try mergeRecords(shards, in: root))
            }
            if let shards = try Self.shardFiles(named: "stats", extension: "json", among: names, in: root) {
                summaries.append(try mergeStatistics(shards, in: root))
            }
            guard !summaries.isEmpty else {
                throw CNNVizError(.fileNotReadable, "nothing to merge: no records-shard-I-of-N.jsonl (gradcam, saliency) or stats-shard-I-of-N.json (stats) files",
                                  location: root.path)
            }
            if json { try printJSON(summaries) } else {
                for summary in summaries {
                    let files = [summary.records, summary.index, summary.stats].compactMap { $0 }.joined(separator: ", ")
                    print("merged \(summary.shards) shards: \(summary.images) inputs" + (summary.failed.map { " (\($0) failed)" } ?? "") + " → \(files)")
                }
            }
        }
    }

    /// The shards' records into records.jsonl, index.html and aggregates.json, sorted by
    /// position; throws unless the positions are 0..<total, each once.
    func mergeRecords(_ shards: [URL], in root: URL) throws -> Summary {
        let records = try shards.flatMap { try DatasetRecord.readLines($0) }.sorted { $0.position < $1.position }
        guard records.map(\.position) == Array(0..<records.count) else {
            throw CNNVizError(.invalidArgument, "the shards' records do not cover positions 0 to \(records.count - 1) once each "
                              + "(shards of runs over different inputs?)", location: root.path)
        }
        let linesFile = DatasetRecord.linesFile(in: root, shard: .whole)
        try DatasetRecord.writeLines(records, to: linesFile)
        let page = try DatasetIndex.write(records, in: root)
        return Summary(records: linesFile.path, index: page.path, aggregates: root.appendingPathComponent(DatasetIndex.aggregatesFile).path,
                       shards: shards.count, images: records.count, failed: records.filter { $0.status == "failed" }.count)
    }

    /// The shards' partial sums into stats.json (what `stats --json` prints for the whole set)
    /// and stats.html.
    func mergeStatistics(_ shards: [URL], in root: URL) throws -> Summary {
        var statistics = ActivationStatistics(), models = Set<String>()
        for shard in shards {
            let partial = try StatsCommand.decode(shard)
            statistics.merge(partial.statistics)
            models.insert(partial.model)
        }
        guard models.count == 1, let model = models.first else {
            throw CNNVizError(.invalidArgument, "the stats shards come from different models: \(models.sorted().joined(separator: ", "))", location: root.path)
        }
        let file = root.appendingPathComponent("stats.json"), page = root.appendingPathComponent("stats.html")
        try StatsPage.document(model: URL(fileURLWithPath: model).lastPathComponent, inputs: statistics.inputs, layers: statistics.layers).write(to: page)
        try AtomicFile.write(try jsonData(StatsCommand.Report(model: model, images: statistics.inputs, layers: statistics.layers, html: page.path))
                             + Data("\n".utf8), to: file)
        return Summary(stats: file.path, shards: shards.count, images: statistics.inputs)
    }

    /// NAME-shard-I-of-N.EXT for every I < N of one N, in shard order; nil when there are none.
    /// Throws, naming the folder, when shards are missing or come from runs of different N.
    static func shardFiles(named name: String, extension suffix: String, among names: [String], in root: URL) throws -> [URL]? {
        let pattern = try NSRegularExpression(pattern: "^\(name)-shard-([0-9]+)-of-([0-9]+)\\.\(suffix)$")
        let parts = names.compactMap { file -> (index: Int, count: Int, name: String)? in
            guard let match = pattern.firstMatch(in: file, range: NSRange(file.startIndex..., in: file)),
                  let index = Range(match.range(at: 1), in: file).flatMap({ Int(file[$0]) }),
                  let count = Range(match.range(at: 2), in: file).flatMap({ Int(file[$0]) }) else { return nil }
            return (index, count, file)
        }
        guard let count = parts.first?.count else { return nil }
        guard Set(parts.map(\.count)) == [count] else {
            throw CNNVizError(.invalidArgument, "the \(name) shard files come from runs of different shard counts: "
                              + parts.map(\.name).sorted().joined(separator: ", ") + "; remove the stale ones", location: root.path)
        }
        let missing = Set(0..<count).subtracting(parts.map(\.index)).sorted()
        guard missing.isEmpty else {
            throw CNNVizError(.invalidArgument, "\(name) shards \(missing.map(String.init).joined(separator: ", ")) of \(count) have not been written yet",
                              location: root.path)
        }
        return parts.sorted { $0.index < $1.index }.map { root.appendingPathComponent($0.name) }
    }
}
