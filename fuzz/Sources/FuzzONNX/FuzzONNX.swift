import CNNVizRuntime
import Foundation
import FuzzDriver

/// libFuzzer entry: any bytes as an ONNX model. Loading validates it; building a session
/// instantiates every operator and folds constants (running ops on the file's initializers).
/// Any thrown CNNVizError is fine; a trap, a crash or an unbounded allocation is a finding.
func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    if let model = try? ONNXImporter.load(data: bytes) { _ = try? Session(model: model) }
    return 0
}

@main
enum FuzzONNXMain {
    static func main() { runFuzzer(fuzzONNX) }
}
