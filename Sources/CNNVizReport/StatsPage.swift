import Foundation

/// `cnn-viz stats` as a self-contained HTML page: one row per layer, then per layer a strip of
/// its channels' zero fractions (an inline SVG bar each; dead channels red, saturated orange),
/// so that a layer's dead channels are seen at a glance.
public enum StatsPage {
    public static func document(model: String, inputs: Int, layers: [ActivationStatistics.Layer]) -> HTMLDocument {
        var document = HTMLDocument(title: "Activation statistics: \(model) over \(inputs) inputs")
        let rows = layers.map { layer -> [String] in
            let count = Double(max(layer.channels.count, 1))
            return [layer.name, "\(layer.channels.count)",
                    String(format: "%.4g", layer.channels.reduce(0) { $0 + $1.mean } / count),
                    String(format: "%.4g", layer.channels.map(\.max).max() ?? 0),
                    String(format: "%.1f%%", 100 * layer.channels.reduce(0) { $0 + $1.zeroFraction } / count),
                    layer.nonNegative ? counted(layer.dead) : "n/a (signed)", counted(layer.saturated)]
        }
        document.addSection("Layers", body: HTMLDocument.table(
            header: ["layer", "channels", "mean", "max", "zeros", "dead channels", "saturated channels"], rows: rows))
        let strips = layers.filter { $0.channels.count > 1 }.map { layer in
            "<div><h3>\(HTMLDocument.escape(layer.name))</h3>\(zeroStrip(layer))</div>"
        }
        document.addSection("Zero fraction per channel (red: dead, orange: saturated)", body: strips.joined(separator: "\n"))
        return document
    }

    /// "3: 0, 5, 7" (the count, as the text output prints it, then the channels), or "0".
    static func counted(_ channels: [Int]) -> String {
        channels.isEmpty ? "0" : "\(channels.count): " + channels.prefix(24).map(String.init).joined(separator: ", ") + (channels.count > 24 ? ", …" : "")
    }

    /// One bar per channel, its height the fraction of zeros, with the channel's numbers as a tooltip.
    static func zeroStrip(_ layer: ActivationStatistics.Layer) -> String {
        let bar = max(2.0, min(12.0, 900.0 / Double(layer.channels.count))), height = 60.0
        let dead = Set(layer.dead), saturated = Set(layer.saturated)
        var svg = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\">",
                         bar * Double(layer.channels.count), height)
        svg += String(format: "<rect width=\"100%%\" height=\"%.0f\" fill=\"#f4f4f4\"/>", height)
        for (position, channel) in layer.channels.enumerated() {
            let color = dead.contains(channel.index) ? "#d62728" : saturated.contains(channel.index) ? "#ff7f0e" : "#3b6fb6"
            let h = max(1, height * channel.zeroFraction)
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\">", bar * Double(position),
                          height - h, max(1, bar - 1), h, color)
            svg += "<title>" + HTMLDocument.escape(String(format: "channel %d: mean %.4g, std %.4g, max %.4g, zeros %.1f%%",
                                                            channel.index, channel.mean, channel.std, channel.max, 100 * channel.zeroFraction))
            svg += "</title></rect>"
        }
        return svg + "</svg>"
    }
}
