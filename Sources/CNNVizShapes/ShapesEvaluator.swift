import CNNVizAttribution
import CNNVizRuntime
import Foundation

/// Scores a shapes model and attribution methods on fresh scenes whose objects are known.
///
/// Single-object scenes (generator seed `seed`, one object each) give the accuracy, the
/// pointing-game hit rate and the energy inside the mask, each map made for the object's
/// true class. Two-object scenes (seed `seed` ⊕ a constant, two classes each) give the
/// class-discriminative hit rate: a scene counts as a hit only when the map for class A
/// peaks on object A *and* the map for class B peaks on object B.
public struct ShapesEvaluator {
    public let session: Session
    public var seed: UInt64
    public var singleObjectScenes: Int
    public var twoObjectScenes: Int
    /// The CAM layer; nil takes the default rule (for the shapes model, relu4).
    public var layer: String?
    public var batchSize = 64

    public init(session: Session, seed: UInt64, singleObjectScenes: Int, twoObjectScenes: Int) {
        self.session = session
        self.seed = seed
        self.singleObjectScenes = singleObjectScenes
        self.twoObjectScenes = twoObjectScenes
    }

    public struct Report: Codable, Sendable {
        public var seed: UInt64
        public var singleObjectScenes: Int
        public var twoObjectScenes: Int
        /// Top-1 accuracy on the single-object scenes.
        public var accuracy: Double
        /// Share of two-object scenes whose two largest logits are the two classes present.
        public var twoObjectAccuracy: Double?
        public var methods: [MethodScore]
    }

    public struct MethodScore: Codable, Sendable {
        public var method: String
        public var pointingGame: Double
        /// The pointing game per class of the single-object scenes.
        public var pointingByClass: [String: Double]
        public var energyInMask: Double
        /// nil when no two-object scenes were asked for.
        public var discriminativeHitRate: Double?
        /// Mean mask area over image area: what `energyInMask` would be for a uniform map.
        public var maskAreaFraction: Double
        public var seconds: Double
    }

    var twoObjectSeed: UInt64 { seed ^ 0x2_0B1E_C75 }

    /// Accuracy and one score per method; `progress(method, done, total)` after each batch.
    public func evaluate(_ methods: [AttributionMethod], progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> Report {
        guard singleObjectScenes >= 1, twoObjectScenes >= 0 else {
            throw CNNVizError(.invalidArgument, "evaluation needs at least one single-object scene, found \(singleObjectScenes)")
        }
        let singles = try SceneGenerator(seed: seed).scenes(0..<singleObjectScenes, objectCount: 1)
        let pairs = try SceneGenerator(seed: twoObjectSeed).scenes(0..<twoObjectScenes, objectCount: 2)
        let classifier = ShapesClassifier(session: session)
        let accuracy = try classifier.accuracy(on: singles)
        let pairLogits = try classifier.logits(pairs)
        let pairHits = zip(pairLogits, pairs).filter { row, scene in
            let top2 = Set(row.indices.sorted { row[$0] > row[$1] }.prefix(2))
            return top2 == Set(scene.objects.map(\.shape.rawValue))
        }.count
        // Each batch's model input is built once, for every method.
        let singleBatches = try batches(singles), pairBatches = try batches(pairs)
        let area = singles.map { scene in
            Double(scene.objects[0].mask.filter { $0 }.count) / Double(scene.objects[0].mask.count)
        }.reduce(0, +)
        let total = singles.count + pairs.count
        var scores = [MethodScore]()
        for method in methods {
            let start = DispatchTime.now().uptimeNanoseconds
            var pointing = 0, energy = 0.0, discriminative = 0, done = 0
            var classHits = [Int](repeating: 0, count: ShapeClass.allCases.count), classCounts = classHits
            for (batch, input) in singleBatches {
                let objects = batch.map { $0.objects[0] }
                let maps = try self.maps(method, input, objects)
                for (map, object) in zip(maps, objects) {
                    classCounts[object.shape.rawValue] += 1
                    if AttributionScores.pointingHit(map: map, mask: object.mask) {
                        pointing += 1
                        classHits[object.shape.rawValue] += 1
                    }
                    energy += AttributionScores.energyInside(map: map, mask: object.mask)
                }
                done += batch.count
                progress(method.name, done, total)
            }
            for (batch, input) in pairBatches {
                let mapsA = try self.maps(method, input, batch.map { $0.objects[0] })
                let mapsB = try self.maps(method, input, batch.map { $0.objects[1] })
                for (index, scene) in batch.enumerated()
                where AttributionScores.pointingHit(map: mapsA[index], mask: scene.objects[0].mask)
                    && AttributionScores.pointingHit(map: mapsB[index], mask: scene.objects[1].mask) {
                    discriminative += 1
                }
                done += batch.count
                progress(method.name, done, total)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            var byClass = [String: Double]()
            for shape in ShapeClass.allCases where classCounts[shape.rawValue] > 0 {
                byClass[shape.name] = Double(classHits[shape.rawValue]) / Double(classCounts[shape.rawValue])
            }
            scores.append(MethodScore(method: method.name, pointingGame: Double(pointing) / Double(singles.count),
                                      pointingByClass: byClass,
                                      energyInMask: energy / Double(singles.count),
                                      discriminativeHitRate: pairs.isEmpty ? nil : Double(discriminative) / Double(pairs.count),
                                      maskAreaFraction: area / Double(singles.count), seconds: seconds))
        }
        return Report(seed: seed, singleObjectScenes: singles.count, twoObjectScenes: pairs.count, accuracy: accuracy,
                      twoObjectAccuracy: pairs.isEmpty ? nil : Double(pairHits) / Double(pairs.count), methods: scores)
    }

    /// The scenes in batches of `batchSize`, each with its model input.
    func batches(_ scenes: [Scene]) throws -> [(scenes: [Scene], input: Tensor)] {
        try stride(from: 0, to: scenes.count, by: batchSize).map { first in
            let batch = Array(scenes[first..<min(first + batchSize, scenes.count)])
            return (batch, try ShapesModel.batch(batch.map(\.image)))
        }
    }

    /// One map per image of `input`, for the class of the given object, each as a row-major slice.
    func maps(_ method: AttributionMethod, _ input: Tensor, _ objects: [SceneObject]) throws -> [ArraySlice<Float>] {
        var request = AttributionRequest(targets: objects.map { ClassTarget($0.shape.rawValue) })
        request.layer = layer
        request.batchSize = batchSize
        let maps = try method.explain(input, session: session, request: request).map.floats
        let plane = maps.count / objects.count
        return (0..<objects.count).map { maps[($0 * plane)..<(($0 + 1) * plane)] }
    }
}
