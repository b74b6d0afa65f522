/// cnn-viz's version, as `cnn-viz --version` prints it with the compute engine it runs on.
public enum CNNVizVersion {
    /// The release, semantic versioning.
    public static let current = "0.9.0"

    /// "cnn-viz 0.9.0 (oneDNN 2.6.3, avx2)".
    public static var description: String {
        "cnn-viz \(current) (oneDNN \(DNNLConvolution.version), \(DNNLConvolution.isa))"
    }
}
