import CNNVizImaging
import Foundation
import FuzzDriver

/// libFuzzer entry: any bytes as an image file (PNG through libpng, JPEG through libjpeg-turbo,
/// EXIF orientation, CMYK conversion), under a 4-megapixel limit to keep runs fast.
func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? ImageDecoder.decode(Data(bytes: data, count: size), limit: ImageSizeLimit(maxPixels: 4_000_000, maxSide: 8192))
    return 0
}

@main
enum FuzzImageMain {
    static func main() { runFuzzer(fuzzImage) }
}
