import CNNVizImaging
import Foundation
import FuzzDriver

/// libFuzzer entry: the preprocessing option parsers (`--size`, `--crop`, `--mean`, `--std`,
/// `--scale`), fed the input split at NUL bytes into up to five option texts.
func fuzzOptions(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let parts = Data(bytes: data, count: size).split(separator: 0, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    func part(_ i: Int) -> String? { i < parts.count && !parts[i].isEmpty ? parts[i] : nil }
    _ = try? Preprocessing.imagenet.overridden(size: part(0), crop: part(1), mean: part(2), std: part(3), scale: part(4))
    return 0
}

@main
enum FuzzOptionsMain {
    static func main() { runFuzzer(fuzzOptions) }
}
