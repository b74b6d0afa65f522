/// The figures at the top of a dataset's index page, from its rows alone, so that one
/// process and merged shards give the same figures.
///
/// - accuracy = correct / labelled, over the images that succeeded and have both a true
///   class and a prediction; per class the same over the images of that true class;
/// - the confusion matrix counts (true class, predicted class) pairs over those images, its
///   classes every class that occurs on either side, in index order;
/// - localisation, per method and true class, over the maps that have a ground-truth region:
///   the pointing game's hit rate and the mean energy inside (`AttributionScores`).
/// Pitfall: the figures describe the images that ran; failed ones are counted apart, not as
/// wrong, so compare `failed` before comparing accuracies of two runs.
public struct DatasetAggregates: Codable, Sendable, Equatable {
    public var images: Int
    public var succeeded: Int
    public var failed: Int
    public var labelled: Int
    public var correct: Int
    public var accuracy: Double?
    public var perClass: [ClassAccuracy]
    public var confusion: ConfusionMatrix
    public var localisation: [Localisation]

    public struct ClassAccuracy: Codable, Sendable, Equatable {
        public var `class`: Int
        public var name: String?
        public var images: Int
        public var correct: Int
        public var accuracy: Double
    }

    public struct ConfusionMatrix: Codable, Sendable, Equatable {
        public var classes: [Int]
        public var names: [String?]
        /// counts[i][j]: images of true class classes[i] predicted as classes[j].
        public var counts: [[Int]]
    }

    public struct Localisation: Codable, Sendable, Equatable {
        public var method: String
        public var `class`: Int?
        public var name: String?
        public var maps: Int
        public var pointingGame: Double
        public var meanEnergyInside: Double
    }

    public init(rows: [DatasetIndexRow]) {
        images = rows.count
        succeeded = rows.filter { $0.status == "ok" }.count
        failed = images - succeeded
        var names = [Int: String]()
        for row in rows {
            if let c = row.trueClass, let name = row.trueName { names[c] = name }
            if let c = row.predictedClass, let name = row.predictedName { names[c] = name }
        }
        let judged = rows.compactMap { row -> (truth: Int, predicted: Int)? in
            guard row.status == "ok", let truth = row.trueClass, let predicted = row.predictedClass else { return nil }
            return (truth, predicted)
        }
        labelled = judged.count
        correct = judged.filter { $0.truth == $0.predicted }.count
        accuracy = labelled > 0 ? Double(correct) / Double(labelled) : nil
        perClass = Dictionary(grouping: judged, by: \.truth).sorted { $0.key < $1.key }.map { truth, pairs in
            let hits = pairs.filter { $0.predicted == truth }.count
            return ClassAccuracy(class: truth, name: names[truth], images: pairs.count, correct: hits,
                                 accuracy: Double(hits) / Double(pairs.count))
        }
        let classes = Set(judged.flatMap { [$0.truth, $0.predicted] }).sorted()
        let position = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: classes.count)
        for pair in judged { counts[position[pair.truth]!][position[pair.predicted]!] += 1 }
        confusion = ConfusionMatrix(classes: classes, names: classes.map { names[$0] }, counts: counts)
        struct Group: Hashable { var method: String; var truth: Int? }
        var scored = [Group: [(hit: Bool, energy: Double)]]()
        for row in rows where row.status == "ok" {
            for map in row.maps {
                guard let hit = map.pointingHit, let energy = map.energyInside else { continue }
                scored[Group(method: map.method, truth: row.trueClass), default: []].append((hit, energy))
            }
        }
        localisation = scored.sorted { ($0.key.method, $0.key.truth ?? -1) < ($1.key.method, $1.key.truth ?? -1) }.map { group, values in
            Localisation(method: group.method, class: group.truth, name: group.truth.flatMap { names[$0] }, maps: values.count,
                         pointingGame: Double(values.filter(\.hit).count) / Double(values.count),
                         meanEnergyInside: values.map(\.energy).reduce(0, +) / Double(values.count))
        }
    }
}
