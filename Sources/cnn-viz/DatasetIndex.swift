import CNNVizReport
import CNNVizRuntime
import Foundation

/// A dataset run's index page and aggregates from its records: written by a whole run, and
/// by `cnn-viz merge` from the shards' records.
enum DatasetIndex {
    static let aggregatesFile = "aggregates.json"

    /// Writes index.html, index-rows.js and aggregates.json into `root`; returns the page.
    @discardableResult
    static func write(_ records: [DatasetRecord], in root: URL) throws -> URL {
        let rows = records.map(row)
        let aggregates = DatasetAggregates(rows: rows)
        try AtomicFile.write(try jsonData(aggregates) + Data("\n".utf8), to: root.appendingPathComponent(aggregatesFile))
        let methods = Set(records.flatMap { $0.results?.map(\.method) ?? [] }).sorted().joined(separator: ", ")
        let models = Set(records.map { URL(fileURLWithPath: $0.model).lastPathComponent }).sorted().joined(separator: ", ")
        let title = "cnn-viz \(methods.isEmpty ? "dataset" : methods): \(records.count) images, \(models)"
        return try DatasetIndexPage.write(rows: rows, aggregates: aggregates, title: title, in: root)
    }

    /// A record as the page shows it. Every file of an input lives in `<key>/`, so its link is
    /// the key and the file's name, whatever directory the run was started from.
    static func row(_ record: DatasetRecord) -> DatasetIndexRow {
        func beside(_ path: String?) -> String? {
            path.map { HTMLDocument.relativeLink(record.key + "/" + URL(fileURLWithPath: $0).lastPathComponent) }
        }
        let results = record.results ?? []
        return DatasetIndexRow(
            key: record.key, status: record.status, reason: record.reason, trueClass: record.trueClass, trueName: record.trueName,
            predictedClass: record.predictedClass, predictedName: record.predictedName, confidence: record.confidence,
            correct: record.correct, thumbnail: beside(record.thumbnail), report: beside(results.first?.report),
            maps: results.map {
                DatasetIndexRow.Map(method: $0.method, class: $0.class, label: $0.label, role: $0.role?.rawValue, score: $0.score,
                                    thumbnail: beside($0.thumbnail), picture: beside($0.overlay.first { $0.hasSuffix(".png") }),
                                    pointingHit: $0.pointingHit, energyInside: $0.energyInside)
            })
    }
}
