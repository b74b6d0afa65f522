import CNNVizImaging
import CNNVizRuntime
import Foundation

/// What a dataset run keeps of one input: `record.json` in the input's output folder, written
/// last, once every file it lists is whole (the mark a rerun skips the input by), and one line
/// of the run's `records.jsonl` (`records-shard-I-of-N.jsonl` for a shard).
/// Pitfall: a record lists paths as the run wrote them (relative to the working directory
/// when `--out` is relative), so a resumed run must start from the same directory.
struct DatasetRecord: Codable {
    var key: String
    var image: String
    /// "ok" or "failed".
    var status: String
    var reason: String?
    var results: [AttributionOptions.Result]?

    /// An input that failed, for the JSON manifest.
    struct Failure: Codable {
        var image: String
        var key: String
        var reason: String
    }

    static let fileName = "record.json"

    /// The record of an input that an earlier run completed: present, "ok", and every file it
    /// lists still there; nil otherwise (the input is redone).
    static func completed(in directory: URL) -> DatasetRecord? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(fileName)),
              let record = try? JSONDecoder().decode(DatasetRecord.self, from: data), record.status == "ok" else { return nil }
        let files = (record.results ?? []).flatMap { [$0.raw, $0.shown, $0.report] + $0.overlay + ($0.shownOriginal.map { [$0] } ?? []) }
        return files.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? record : nil
    }

    func write(to directory: URL) throws {
        try AtomicFile.write(try jsonData(self), to: directory.appendingPathComponent(Self.fileName))
    }

    /// The run's records, one JSON object per line, in input order.
    static func writeLines(_ records: [DatasetRecord], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var text = Data()
        for record in records { text += try encoder.encode(record) + Data("\n".utf8) }
        try AtomicFile.write(text, to: url)
    }

    /// records.jsonl, or records-shard-I-of-N.jsonl for one shard of N.
    static func linesFile(in root: URL, shard: DatasetShard) -> URL {
        root.appendingPathComponent(shard.count == 1 ? "records.jsonl" : "records-shard-\(shard.index)-of-\(shard.count).jsonl")
    }
}
