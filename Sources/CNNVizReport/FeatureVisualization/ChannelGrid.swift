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

    /// Filter evolution: one row per checkpoint (its label on the left), the same objectives'
    /// images in the same columns, each captioned with its objective's value.
    public static func evolution(rows: [(label: String, images: Tensor, values: [Float])], columnTitles: [String]) -> Picture {
        guard let first = rows.first else { return Picture(width: 1, height: 1) }
        let (count, height, width) = (first.images.shape[0], first.images.shape[2], first.images.shape[3])
        let scale = max(1, 96 / max(height, width)), gap = 6, captionHeight = 14, labelWidth = 150, titleHeight = 18
        let (cellWidth, cellHeight) = (width * scale + gap, height * scale + captionHeight + gap)
        var picture = Picture(width: labelWidth + count * cellWidth + gap, height: titleHeight + rows.count * cellHeight + gap)
        let ink = RGBColor(gray: 30)
        for (column, title) in columnTitles.enumerated() {
            picture.add(.text(title, x: Double(labelWidth + column * cellWidth + width * scale / 2), y: 13, size: 11, color: ink, anchor: .center))
        }
        for (row, entry) in rows.enumerated() {
            let y = titleHeight + row * cellHeight
            let label = entry.label.count > 22 ? String(entry.label.prefix(21)) + "…" : entry.label
            picture.add(.text(label, x: Double(labelWidth - 8), y: Double(y + height * scale / 2 + 4), size: 11, color: ink, anchor: .right))
            for index in 0..<min(count, entry.images.shape[0]) {
                let x = labelWidth + index * cellWidth
                picture.addImage(RGBImage(unitBatch: entry.images, index: index), x: x, y: y, scale: scale)
                let value = index < entry.values.count ? String(format: "%.3g", entry.values[index]) : ""
                picture.add(.text(value, x: Double(x + width * scale / 2), y: Double(y + height * scale + 11), size: 10, color: ink, anchor: .center))
            }
        }
        return picture
    }
}
