/// One image of a dataset run: where it is, the key its outputs live under, and its ground
/// truth when a manifest gives one.
///
/// The key is the image's path relative to the run's common folder, without its extension
/// (`cats/0001`), so that the output tree mirrors the input tree and two inputs never share
/// an output folder. Two files that differ only in extension in one folder (`a.png`, `a.jpg`)
/// keep it (`a.png`, `a.jpg`).
public struct DatasetItem: Sendable, Codable, Equatable {
    /// The file, as found (relative to the working directory, or absolute).
    public var path: String
    /// The output key: a relative path, unique within the run.
    public var key: String
    /// The manifest's true label: a class index or a name.
    public var label: String?
    /// The manifest's box, x0, y0, x1, y1 in input pixels.
    public var box: [Double]?
    /// The manifest's mask image, resolved like `path`.
    public var mask: String?

    public init(path: String, key: String, label: String? = nil, box: [Double]? = nil, mask: String? = nil) {
        self.path = path
        self.key = key
        self.label = label
        self.box = box
        self.mask = mask
    }
}
