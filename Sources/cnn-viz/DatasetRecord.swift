import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime
import Foundation

/// What a dataset run keeps of one input: `METHOD.record.json` in the input's output folder, written
/// last, once every file it lists is whole (the mark a rerun skips the input by), and one line
/// of the run's `records.jsonl` (`records-shard-I-of-N.jsonl` for a shard).
/// Pitfall: a record lists paths as the run wrote them (relative to the working directory
/// when `--out` is relative), so a resumed run must start from the same directory.
struct DatasetRecord: Codable {
    /// The image's position in the run's sorted list (merges sort shards' records by it).
    var position: Int
    var key: String
    var image: String
    /// The model's file, or "<embedded shapes model>".
    var model: String
    /// "ok" or "failed".
    var status: String
    var reason: String?
    /// The manifest's true label as written, and its class index.
    var label: String?
    var trueClass: Int?
    var trueName: String?
    /// The model's top-1 class, its name and its probability (`TopPrediction`).
    var predictedClass: Int?
    var predictedName: String?
    var confidence: Float?
    /// Whether the top-1 class is the true class (both known).
    var correct: Bool?
    /// The photo's thumbnail (`Thumbnail`), beside the maps.
    var thumbnail: String?
    var results: [AttributionOptions.Result]?

    /// The record of an input about to run: "ok" until `failure` says otherwise; the run fills
    /// in the classes, prediction, thumbnail and results as it learns them.
    init(position: Int, item: DatasetItem, model: String) {
        self.position = position
        self.model = model
        key = item.key
        image = item.path
        status = "ok"
        label = item.label
    }

    /// The model's top-1 prediction, and whether it is the true class.
    mutating func predicted(_ prediction: TopPrediction?, name: String?) {
        predictedClass = prediction?.classIndex
        predictedName = name
        confidence = prediction?.probability
        correct = trueClass.flatMap { truth in predictedClass.map { $0 == truth } }
    }

    /// The same input, failed: its reason, and nothing learned before the failure.
    func failed(_ reason: String) -> DatasetRecord {
        var record = DatasetRecord(position: position, item: DatasetItem(path: image, key: key, label: label), model: model)
        record.status = "failed"
        record.reason = reason
        return record
    }

    /// An input that failed, for the JSON manifest.
    struct Failure: Codable {
        var image: String
        var key: String
        var reason: String

        init(item: DatasetItem, error: CNNVizError) {
            image = item.path
            key = item.key
            reason = "\(error)"
        }

        /// What stderr says when a failure is recorded and the run goes on.
        var message: String { "error: \(reason) (recorded; going on)" }
    }

    /// The record's file in an input's folder: `gradcam.record.json`, one per method, so that
    /// a second method run into the same folder never takes the first's record for its own.
    static func fileName(method fileName: String) -> String { "\(fileName).record.json" }

    /// Records keep a NaN or infinite score as the strings "nan", "inf", "-inf" (JSON has no
    /// such numbers, and null would not read back as a score).
    static func encoded(_ value: some Encodable, pretty: Bool) throws -> Data {
        let encoder = jsonEncoder(pretty: pretty)
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    /// Reads what `encoded` writes (snake-case keys, non-finite numbers as strings).
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// The record of an input that an earlier run completed: present, "ok", of the same image,
    /// manifest label and model, and every file it lists still there; nil otherwise (the input
    /// is redone: a corrected label or another model is a new result).
    static func completed(in directory: URL, method: String, image item: DatasetItem, model: String) -> DatasetRecord? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(fileName(method: method))),
              let record = try? decoder.decode(DatasetRecord.self, from: data), record.status == "ok",
              record.image == item.path, record.label == item.label, record.model == model else { return nil }
        let files = (record.results ?? []).flatMap { [$0.raw, $0.shown, $0.report] + $0.overlay + [$0.shownOriginal, $0.thumbnail].compactMap { $0 } }
            + [record.thumbnail].compactMap { $0 }
        return files.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? record : nil
    }

    func write(to directory: URL, method: String) throws {
        try AtomicFile.write(try Self.encoded(self, pretty: true), to: directory.appendingPathComponent(Self.fileName(method: method)))
    }

    /// The run's records, one JSON object per line, in input order.
    static func writeLines(_ records: [DatasetRecord], to url: URL) throws {
        var text = Data()
        for record in records { text += try encoded(record, pretty: false) + Data("\n".utf8) }
        try AtomicFile.write(text, to: url)
    }

    /// The records of a records.jsonl file, naming the file and line when one does not parse.
    static func readLines(_ url: URL) throws -> [DatasetRecord] {
        let text = String(decoding: try FileRead.data(contentsOf: url, what: "the records"), as: UTF8.self)
        return try text.split(separator: "\n").enumerated().map { number, line in
            do { return try decoder.decode(DatasetRecord.self, from: Data(line.utf8)) } catch {
                throw CNNVizError(.corruptFile, "line \(number + 1) is not a cnn-viz dataset record", location: url.path, cause: error)
            }
        }
    }

    /// records.jsonl, or records-shard-I-of-N.jsonl for one shard of N.
    static func linesFile(in root: URL, shard: DatasetShard) -> URL {
        root.appendingPathComponent(shard.count == 1 ? "records.jsonl" : "records-shard-\(shard.index)-of-\(shard.count).jsonl")
    }
}
