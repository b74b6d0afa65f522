import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import Foundation

/// Optimised images side by side, eight to a row, each captioned beneath (the objective and
/// its value); images below 128 pixels are enlarged by a whole factor.
public enum ChannelGrid {
    public static func picture(images: Tensor, captions: [String], columns: Int = 8) -> Picture {
        let (count, height, width) = (images.shape[0], images.shape[2], images.shape[3])
        let scale = max(1, 128 / max(height, width)), gap = 6, captionHeight = 16
        let (cellWidth, cellHeight) = (width * scale + gap, height * scale + captionHeight + gap)
        let columns = min(columns, count), rows = (count + columns - 1) / columns
        var picture = Picture(width: columns * cellWidth + gap, height: rows * cellHeight + gap)
        for index in 0..<count {
            let (x, y) = (gap + (index % columns) * cellWidth, gap + (index / columns) * cellHeight)
            picture.addImage(RGBImage(unitBatch: images, index: index), x: x, y: y, scale: scale)
            picture.add(.text(index < captions.count ? captions[index] : "", x: Double(x + width * scale / 2), y: Double(y + height * scale + 12),
                              size: 11, color: RGBColor(gray: 30), anchor: .center))
        }
        return picture
    }

    public static func png(images: Tensor, captions: [String]) throws -> Data {
        try picture(images: images, captions: captions).encoded(as: .png)
    }
}
