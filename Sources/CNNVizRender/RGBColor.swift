/// An opaque 8-bit colour in RGB order.
public struct RGBColor: Hashable, Sendable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A gray level: red = green = blue = `level`.
    public init(gray level: UInt8) { self.init(red: level, green: level, blue: level) }

    public static let black = RGBColor(gray: 0)
    public static let white = RGBColor(gray: 255)

    public var description: String { "(\(red), \(green), \(blue))" }
}
