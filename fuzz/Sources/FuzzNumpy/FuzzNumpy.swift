import CNNVizRuntime
import Foundation
import FuzzDriver

/// libFuzzer entry: any bytes as a `.npy` file (magic, version, header dict, dtype, shape).
func fuzzNumpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? NumpyFile.decode(Data(bytes: data, count: size))
    return 0
}

@main
enum FuzzNumpyMain {
    static func main() { runFuzzer(fuzzNumpy) }
}
