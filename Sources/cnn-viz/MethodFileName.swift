import CNNVizRuntime

/// A method's name as it appears in file names: "+" spelled out ("gradcam++" →
/// "gradcam-plus-plus"), then `fileStem`'s rules. Every file a method writes (maps, pictures,
/// its HTML page) uses this, so that they sort together.
enum MethodFileName {
    static func of(_ method: String) -> String {
        fileStem(for: method.replacingOccurrences(of: "+", with: "-plus"))
    }
}
