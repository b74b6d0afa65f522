/// A 256-entry RGB lookup table that turns a value in [0, 1] into a colour.
///
/// The tables are generated once from OpenCV and matplotlib by
/// `scripts/reference/make_colormaps.py` and live in `Colormap+Tables.swift`:
/// `jet` is OpenCV's COLORMAP_JET (what `cv2.applyColorMap` and pytorch-grad-cam give, not
/// matplotlib's "jet"); `turbo`, `viridis`, `inferno`, `magma`, `plasma` and `gray` are
/// matplotlib's; `redBlue` (matplotlib's "RdBu_r") and `redWhiteGreen` (Captum's default
/// for signed attributions) are diverging; `greens`, `reds` and `blues` are Captum's defaults
/// for positive, negative and absolute-value attributions.
///
/// Which entry a value picks is a convention, and the three libraries disagree (see
/// `Quantization`). The default is `.nearest`: index = round(255·v).
public struct Colormap: Hashable, Sendable, CustomStringConvertible {
    /// The name the table has in its source library ("jet", "viridis", "RdBu_r", …).
    public let name: String
    /// 256 entries × (red, green, blue), 768 bytes.
    public let table: [UInt8]

    /// A colormap from `table`: 256 RGB triples, 768 bytes in all.
    public init(name: String, table: [UInt8]) {
        precondition(table.count == 3 * 256, "a colormap table holds 256 RGB entries (768 bytes), not \(table.count)")
        self.name = name
        self.table = table
    }

    /// Every built-in map, in the order the documentation lists them.
    public static let all: [Colormap] = [
        .jet, .turbo, .viridis, .inferno, .magma, .plasma, .gray, .redBlue, .redWhiteGreen, .greens, .reds, .blues,
    ]

    /// The built-in map called `name` (its source name, e.g. "RdBu_r", or its Swift name,
    /// e.g. "redBlue", case-insensitive), or nil.
    public static func named(_ name: String) -> Colormap? {
        let key = name.lowercased()
        let swiftNames: [String: Colormap] = ["redblue": .redBlue, "redwhitegreen": .redWhiteGreen]
        return all.first { $0.name.lowercased() == key } ?? swiftNames[key]
    }

    /// How a value v in [0, 1] becomes a table index.
    ///
    /// - `nearest`: round(255·v), ties away from zero. The nearest entry; the default.
    /// - `truncating`: ⌊255·v⌋, which is what `cv2.applyColorMap(np.uint8(255 * v))` does and
    ///   so what pytorch-grad-cam's `show_cam_on_image` does. Pitfall: it is one entry lower
    ///   than `nearest` for about half of all values, which on jet is up to 4 levels per channel.
    /// - `matplotlib`: min(⌊256·v⌋, 255), what `matplotlib.colors.Colormap.__call__` does with a
    ///   float (and so what `imshow` and Captum's views do after normalising with vmin/vmax).
    ///
    /// Values below 0 or above 1 are clamped; NaN picks entry 0.
    public enum Quantization: Sendable {
        case nearest
        case truncating
        case matplotlib
    }

    /// The table index for `value` under `quantization`.
    @inlinable
    public static func index(for value: Float, quantization: Quantization = .nearest) -> Int {
        guard value > 0 else { return 0 }  // also NaN
        guard value < 1 else { return 255 }
        switch quantization {
        case .nearest: return Int((value * 255).rounded(.toNearestOrAwayFromZero))
        case .truncating: return Int(value * 255)
        case .matplotlib: return min(Int(value * 256), 255)
        }
    }

    /// The colour of entry `index` (0...255).
    public func color(atIndex index: Int) -> RGBColor {
        precondition((0..<256).contains(index), "colormap index \(index) is outside 0...255")
        return RGBColor(red: table[3 * index], green: table[3 * index + 1], blue: table[3 * index + 2])
    }

    /// The colour for `value` in [0, 1]; see `Quantization` for which entry that is.
    public func color(at value: Float, quantization: Quantization = .nearest) -> RGBColor {
        color(atIndex: Colormap.index(for: value, quantization: quantization))
    }

    /// The same table in reverse order (matplotlib's "_r" maps).
    public var reversed: Colormap {
        var entries = [UInt8](repeating: 0, count: table.count)
        for index in 0..<256 {
            for channel in 0..<3 { entries[3 * (255 - index) + channel] = table[3 * index + channel] }
        }
        return Colormap(name: name.hasSuffix("_r") ? String(name.dropLast(2)) : name + "_r", table: entries)
    }

    public var description: String { "Colormap(\(name))" }
}
