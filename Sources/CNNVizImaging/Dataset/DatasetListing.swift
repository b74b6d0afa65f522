import CNNVizRuntime
import Foundation

/// The images of a run, from the command line's arguments and a manifest, in the one order
/// that shards, resumes and merges agree on.
///
/// - A file is itself; a directory is every image below it (recursively, `.png`, `.jpg`,
///   `.jpeg` in any case, hidden files and folders skipped); an argument with `*`, `?` or `[`
///   is a glob (the shell usually expands it first; quoted, cnn-viz does).
/// - A manifest (`ManifestFile`) adds its rows with their labels, boxes and masks.
/// - The list is sorted by standardised path (byte order) and repeated paths are dropped, the
///   first keeping its manifest fields. `sample` then keeps a seeded random subset (in sorted order), `limit`
///   the first N.
/// - Keys are paths relative to the deepest folder that holds every image, without the extension
///   unless two files in one folder share a stem (see `DatasetItem`).
/// Pitfall: a run's keys depend on the whole list, so every shard must list the same inputs;
/// the order and keys are computed before the shard takes its part.
public struct DatasetListing: Sendable {
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    public var sources: [String]
    public var manifest: URL?
    public var limit: Int?
    public var sample: Int?
    public var seed: UInt64

    public init(sources: [String], manifest: URL? = nil, limit: Int? = nil, sample: Int? = nil, seed: UInt64 = 0) {
        self.sources = sources
        self.manifest = manifest
        self.limit = limit
        self.sample = sample
        self.seed = seed
    }

    /// The items, sorted, subset, keyed. Throws when a source does not exist, a glob or a
    /// folder matches no image, or nothing is left.
    public func items() throws -> [DatasetItem] {
        var found = [DatasetItem]()
        for source in sources { found += try Self.expand(source).map { DatasetItem(path: $0, key: "") } }
        if let manifest { found += try ManifestFile.read(manifest) }
        // Sorted and deduplicated by the standardised path, so that `a/../b.png` and `b.png` are
        // one image at one position, however they were named.
        var seen = Set<String>()
        var items = found.map { (URL(fileURLWithPath: $0.path).standardizedFileURL.path, $0) }
            .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .filter { seen.insert($0.0).inserted }.map(\.1)
        if let sample, sample < items.count {
            var random = NetworkBuilder.SplitMix64(seed: seed)   // the same seed, the same sample, on any machine
            var indices = Array(items.indices)
            for i in stride(from: indices.count - 1, to: 0, by: -1) { indices.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            let kept = Set(indices.prefix(sample))
            items = items.indices.filter { kept.contains($0) }.map { items[$0] }
        }
        if let limit { items = Array(items.prefix(limit)) }
        guard !items.isEmpty else {
            throw CNNVizError(.invalidArgument, "no images to process in " + (sources + [manifest?.path].compactMap { $0 }).joined(separator: ", "))
        }
        return Self.keyed(items)
    }

    /// A source's image files: itself, a directory's images, or a glob's matches.
    static func expand(_ source: String) throws -> [String] {
        if source.contains(where: { "*?[".contains($0) }) && !FileManager.default.fileExists(atPath: source) {
            let matches = try Glob.paths(matching: source).filter { isImage($0) || isDirectory($0) }.flatMap { try expand($0) }
            guard !matches.isEmpty else { throw CNNVizError(.invalidArgument, "the pattern matches no image", location: source) }
            return matches
        }
        guard isDirectory(source) else { return [source] }
        let root = URL(fileURLWithPath: source)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw CNNVizError.unreadable("the folder", at: root, cause: nil)
        }
        let prefix = source.hasSuffix("/") ? source : source + "/"
        let rootPath = root.standardizedFileURL.path
        var files = [String]()
        for case let url as URL in walker where isImage(url.path) && !isDirectory(url.path) {
            let full = url.standardizedFileURL.path
            files.append(prefix + String(full.dropFirst(rootPath.count + 1)))
        }
        guard !files.isEmpty else { throw CNNVizError(.invalidArgument, "the folder holds no .png, .jpg or .jpeg image", location: source) }
        return files
    }

    static func isImage(_ path: String) -> Bool { imageExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased()) }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// Keys relative to the deepest common folder, stems unless two share one in a folder.
    static func keyed(_ items: [DatasetItem]) -> [DatasetItem] {
        let folders = items.map { URL(fileURLWithPath: $0.path).standardizedFileURL.deletingLastPathComponent().pathComponents }
        var common = folders[0]
        for folder in folders.dropFirst() {
            common = Array(zip(common, folder).prefix { $0.0 == $0.1 }.map(\.0))
        }
        let relative = items.map { item -> (folder: String, file: String) in
            let url = URL(fileURLWithPath: item.path).standardizedFileURL
            let folder = url.deletingLastPathComponent().pathComponents.dropFirst(common.count).joined(separator: "/")
            return (folder, url.lastPathComponent)
        }
        var stems = [String: Int]()
        for (folder, file) in relative { stems[folder + "/" + (file as NSString).deletingPathExtension, default: 0] += 1 }
        return zip(items, relative).map { item, place in
            let stem = (place.file as NSString).deletingPathExtension
            let name = stems[place.folder + "/" + stem]! > 1 ? place.file : stem
            var keyed = item
            keyed.key = place.folder.isEmpty ? name : place.folder + "/" + name
            return keyed
        }
    }
}

/// glob(3), sorted, as the shell would expand a pattern.
enum Glob {
    static func paths(matching pattern: String) throws -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        let status = glob(pattern, 0, nil, &result)
        guard status == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
