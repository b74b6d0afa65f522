import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// The dataset layer of the datasets issue: which images a run takes, their output keys, a
/// manifest's ground truth (checked against Python's csv and json modules), seeded subsets and
/// the shards of a job array.
final class DatasetListingTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-\(UUID().uuidString)")
        for file in ["a/x.png", "a/x.jpg", "b/x.PNG", "b/c/y.jpeg", "b/notes.txt", ".hidden/z.png", "top.png"] {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([0]).write(to: url)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testFoldersAreWalkedSortedAndKeyedWithoutClashes() throws {
        let items = try DatasetListing(sources: [root.path]).items()
        let prefix = root.path + "/"
        XCTAssertEqual(items.map { String($0.path.dropFirst(prefix.count)) }, ["a/x.jpg", "a/x.png", "b/c/y.jpeg", "b/x.PNG", "top.png"])
        XCTAssertEqual(items.map(\.key), ["a/x.jpg", "a/x.png", "b/c/y", "b/x", "top"])
        XCTAssertEqual(Set(items.map(\.key)).count, items.count)
        // A quoted glob, a file given twice, and a folder that adds nothing new.
        let globbed = try DatasetListing(sources: [root.path + "/a/*.png", root.appendingPathComponent("top.png").path,
                                                   root.appendingPathComponent("a/../top.png").path]).items()
        XCTAssertEqual(globbed.map(\.key), ["a/x", "top"])
        XCTAssertThrowsError(try DatasetListing(sources: [root.path + "/none/*.png"]).items()) { error in
            XCTAssertTrue("\(error)".contains("matches no image"), "\(error)")
        }
    }

    func testSamplesAreSeededSubsetsInSortedOrder() throws {
        let all = try DatasetListing(sources: [root.path]).items()
        let first = try DatasetListing(sources: [root.path], sample: 3, seed: 7).items()
        XCTAssertEqual(first, try DatasetListing(sources: [root.path], sample: 3, seed: 7).items())
        XCTAssertEqual(first.count, 3)
        XCTAssertEqual(first.map(\.path), first.map(\.path).sorted())
        let seeds = try (0..<8).map { try DatasetListing(sources: [root.path], sample: 3, seed: $0).items().map(\.path) }
        XCTAssertGreaterThan(Set(seeds).count, 1, "different seeds pick different subsets")
        XCTAssertTrue(Set(first.map(\.path)).isSubset(of: all.map(\.path)))
        XCTAssertEqual(try DatasetListing(sources: [root.path], limit: 2).items().map(\.path), Array(all.prefix(2)).map(\.path))
    }

    /// A manifest read as Python's csv and json modules read it.
    func testManifestsMatchPythonsReaders() throws {
        let csv = root.appendingPathComponent("labels.csv")
        try """
        path,label,box,mask
        a/x.png,"tabby, tabby cat","1 2 30 40",masks/x.png
        "b/c/y.jpeg",7,,
        top.png,"say ""hi""\",,

        """.write(to: csv, atomically: true, encoding: .utf8)
        let jsonl = root.appendingPathComponent("labels.jsonl")
        try """
        {"path": "a/x.jpg", "label": "dog", "box": [0, 0, 10, 20]}
        {"path": "\(root.path)/b/x.PNG"}
        """.write(to: jsonl, atomically: true, encoding: .utf8)
        let reference = try TestData.python("""
            import csv, json, os
            rows = []
            with open('\(csv.path)', newline='') as f:
                for r in csv.DictReader(f):
                    rows.append({"path": os.path.join('\(root.path)', r["path"]), "label": r["label"] or None,
                                 "box": [float(v) for v in r["box"].split()] if r["box"] else None,
                                 "mask": os.path.join('\(root.path)', r["mask"]) if r["mask"] else None})
            for line in open('\(jsonl.path)'):
                r = json.loads(line)
                rows.append({"path": r["path"] if r["path"].startswith('/') else os.path.join('\(root.path)', r["path"]),
                             "label": r.get("label"), "box": [float(v) for v in r["box"]] if "box" in r else None, "mask": None})
            print(json.dumps(rows))
            """)
        struct Row: Decodable, Equatable { var path: String; var label: String?; var box: [Double]?; var mask: String? }
        let expected = try JSONDecoder().decode([Row].self, from: Data(reference.utf8))
        let read = try ManifestFile.read(csv) + ManifestFile.read(jsonl)
        XCTAssertEqual(read.map { Row(path: $0.path, label: $0.label, box: $0.box, mask: $0.mask) }, expected)
        // Through a listing: manifest rows keep their labels, keyed like folder inputs.
        let items = try DatasetListing(sources: [], manifest: csv).items()
        XCTAssertEqual(items.map(\.key), ["a/x", "b/c/y", "top"])
        XCTAssertEqual(items.map(\.label), ["tabby, tabby cat", "7", "say \"hi\""])

        let broken = root.appendingPathComponent("broken.csv")
        try "file,label\na.png,1\n".write(to: broken, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ManifestFile.read(broken)) { XCTAssertTrue("\($0)".contains("no 'path' column"), "\($0)") }
        try "path,box\na.png,1 2 3\n".write(to: broken, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ManifestFile.read(broken)) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
    }

    func testShardsPartitionTheListAndComeFromJobArrays() throws {
        let items = (0..<23).map { DatasetItem(path: "\($0)", key: "\($0)") }
        let shards = (0..<4).map { DatasetShard(index: $0, count: 4).items(of: items) }
        XCTAssertEqual(shards.flatMap { $0 }.map(\.key).sorted(), items.map(\.key).sorted())
        XCTAssertEqual(shards.map(\.count), [6, 6, 6, 5])
        XCTAssertEqual(try DatasetShard(parsing: "2/4"), DatasetShard(index: 2, count: 4))
        for bad in ["4/4", "-1/4", "1", "a/b", "0/0"] { XCTAssertThrowsError(try DatasetShard(parsing: bad), bad) }
        XCTAssertEqual(try DatasetShard.fromEnvironment(["JOB_COMPLETION_INDEX": "3"], shards: 4), DatasetShard(index: 3, count: 4))
        XCTAssertThrowsError(try DatasetShard.fromEnvironment(["JOB_COMPLETION_INDEX": "3"], shards: nil))
        XCTAssertEqual(try DatasetShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"], shards: nil),
                       DatasetShard(index: 2, count: 4))
        XCTAssertEqual(try DatasetShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"],
                                                        shards: nil), DatasetShard(index: 3, count: 4))
        XCTAssertThrowsError(try DatasetShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4",
                                                               "SLURM_ARRAY_TASK_STEP": "4"], shards: nil))
        XCTAssertNil(try DatasetShard.fromEnvironment([:], shards: 4))
        // With --shards, a Slurm task is the shard its id names, even resubmitted alone (--array=2).
        XCTAssertEqual(try DatasetShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "2"],
                                                        shards: 4), DatasetShard(index: 2, count: 4))
        XCTAssertThrowsError(try DatasetShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4"], shards: 4), "task 4 of --shards 4")
    }
}
