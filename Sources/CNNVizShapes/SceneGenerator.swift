import CCairo
import CNNVizImaging
import CNNVizRuntime
import Foundation

/// Draws the scenes of the shapes world with Cairo, deterministically: scene `index` of a
/// generator with seed S depends on (S, index) alone, so scenes can be made in any order, in
/// parallel, and again later.
///
/// A scene, in drawing order:
/// 1. a background: a linear gradient between two random colours at a random angle, plus a
///    low-contrast sinusoidal texture;
/// 2. 2–6 pieces of clutter that belong to no class: line segments, dots and open arcs;
/// 3. one object, or two of different classes (`twoObjectFraction`), of radius
///    `radiusRange`, at a random rotation, in a colour whose luminance differs from the
///    background's by at least 0.25, placed wholly inside the frame and never overlapping;
/// 4. per-pixel noise, uniform in ±`noise`·U(0.3, 1).
///
/// Pitfall: the ground-truth mask is the drawn path's coverage, not what survives the noise;
/// at low contrast a few mask pixels can look like background. The luminance margin keeps
/// that rare.
public struct SceneGenerator: Sendable {
    public var seed: UInt64
    public var size: Int
    public var radiusRange: ClosedRange<Double>
    /// The share of scenes with two objects.
    public var twoObjectFraction: Double
    /// Peak per-pixel noise, on the 0–1 scale.
    public var noise: Double

    public init(seed: UInt64, size: Int = 64, radiusRange: ClosedRange<Double> = 10...18, twoObjectFraction: Double = 0,
                noise: Double = 0.06) {
        self.seed = seed
        self.size = size
        self.radiusRange = radiusRange
        self.twoObjectFraction = twoObjectFraction
        self.noise = noise
    }

    /// The smallest and largest scene sides accepted.
    public static let sizes = 32...1024

    /// Scene `index`: `objectCount` objects (1 or 2), or as `twoObjectFraction` draws.
    public func scene(_ index: Int, objectCount: Int? = nil) throws -> Scene {
        guard SceneGenerator.sizes.contains(size) else {
            throw CNNVizError(.invalidArgument, "scenes are \(SceneGenerator.sizes.lowerBound) to \(SceneGenerator.sizes.upperBound) pixels wide, not \(size)")
        }
        guard radiusRange.lowerBound >= 4, 2 * radiusRange.upperBound + 4 <= Double(size) else {
            throw CNNVizError(.invalidArgument, "object radii \(radiusRange) do not fit a \(size)×\(size) scene (need 4 ≤ r ≤ (size − 4)/2)")
        }
        var random = SceneRandom(seed: seed, index: index)
        let count = objectCount ?? (random.unit() < twoObjectFraction ? 2 : 1)
        guard (1...2).contains(count) else {
            throw CNNVizError(.invalidArgument, "a scene holds 1 or 2 objects, not \(count)")
        }
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(size), Int32(size))!
        defer { cairo_surface_destroy(surface) }
        let context = cairo_create(surface)!
        defer { cairo_destroy(context) }

        let background = drawBackground(context, random: &random)
        drawClutter(context, random: &random)
        var objects = [SceneObject]()
        let shapes = pickClasses(count, random: &random)
        for shape in shapes {
            objects.append(try placeObject(shape, avoiding: objects, background: background, context: context, random: &random))
        }
        let image = pixels(of: surface, random: &random)
        return Scene(index: index, image: image, objects: objects)
    }

    /// Scenes `range`, made on every core.
    public func scenes(_ range: Range<Int>, objectCount: Int? = nil) throws -> [Scene] {
        let indices = Array(range)
        var results = [Result<Scene, Error>?](repeating: nil, count: indices.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: indices.count) { i in
                base[i] = Result { try scene(indices[i], objectCount: objectCount) }
            }
        }
        return try results.map { try $0!.get() }
    }

    // MARK: - Drawing

    /// Paints the gradient and returns its mean colour (0–1 per channel).
    private func drawBackground(_ context: OpaquePointer, random: inout SceneRandom) -> [Double] {
        let first = (0..<3).map { _ in random.uniform(0.1...0.9) }
        let second = (0..<3).map { _ in random.uniform(0.1...0.9) }
        let angle = random.uniform(0...(2 * .pi)), half = Double(size) / 2
        let gradient = cairo_pattern_create_linear(half - half * cos(angle), half - half * sin(angle),
                                                   half + half * cos(angle), half + half * sin(angle))!
        defer { cairo_pattern_destroy(gradient) }
        cairo_pattern_add_color_stop_rgb(gradient, 0, first[0], first[1], first[2])
        cairo_pattern_add_color_stop_rgb(gradient, 1, second[0], second[1], second[2])
        cairo_set_source(context, gradient)
        cairo_paint(context)
        return (0..<3).map { (first[$0] + second[$0]) / 2 }
    }

    private func drawClutter(_ context: OpaquePointer, random: inout SceneRandom) {
        let count = random.integer(2...6), side = Double(size)
        for _ in 0..<count {
            cairo_set_source_rgb(context, random.unit(), random.unit(), random.unit())
            let x = random.uniform(0...side), y = random.uniform(0...side)
            switch random.integer(0...2) {
            case 0:
                let length = random.uniform(6...20), angle = random.uniform(0...(2 * .pi))
                cairo_set_line_width(context, random.uniform(1...2.5))
                cairo_move_to(context, x, y)
                cairo_line_to(context, x + length * cos(angle), y + length * sin(angle))
                cairo_stroke(context)
            case 1:
                cairo_arc(context, x, y, random.uniform(1...3), 0, 2 * .pi)
                cairo_fill(context)
            default:
                let start = random.uniform(0...(2 * .pi))
                cairo_set_line_width(context, random.uniform(1...2))
                cairo_new_sub_path(context)
                cairo_arc(context, x, y, random.uniform(3...6), start, start + random.uniform(1...3))
                cairo_stroke(context)
            }
        }
    }

    /// `count` distinct classes, uniformly.
    private func pickClasses(_ count: Int, random: inout SceneRandom) -> [ShapeClass] {
        var remaining = ShapeClass.allCases
        return (0..<count).map { _ in remaining.remove(at: random.integer(0...(remaining.count - 1))) }
    }

    private func placeObject(_ shape: ShapeClass, avoiding others: [SceneObject], background: [Double],
                             context: OpaquePointer, random: inout SceneRandom) throws -> SceneObject {
        let side = Double(size)
        var radius = random.uniform(radiusRange)
        var centerX = side / 2, centerY = side / 2
        for attempt in 0..<200 {
            if attempt == 100 { radius = radiusRange.lowerBound }
            centerX = random.uniform((radius + 1)...(side - radius - 1))
            centerY = random.uniform((radius + 1)...(side - radius - 1))
            let clear = others.allSatisfy { other in
                hypot(other.centerX - centerX, other.centerY - centerY) >= other.radius + radius + 2
            }
            if clear { break }
        }
        let rotation = random.uniform(0...(2 * .pi))
        var color = [Double](repeating: 0, count: 3)
        for _ in 0..<50 {
            color = (0..<3).map { _ in random.unit() }
            if abs(luminance(color) - luminance(background)) >= 0.25 { break }
        }
        if abs(luminance(color) - luminance(background)) < 0.25 {
            color = luminance(background) > 0.5 ? [0.05, 0.05, 0.05] : [0.95, 0.95, 0.95]
        }
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_EVEN_ODD)
        cairo_set_source_rgb(context, color[0], color[1], color[2])
        shape.addPath(to: context, centerX: centerX, centerY: centerY, radius: radius, rotation: rotation)
        cairo_fill(context)

        let mask = try coverage(of: shape, centerX: centerX, centerY: centerY, radius: radius, rotation: rotation)
        guard let box = BoundingBox(mask: mask, width: size) else {
            throw CNNVizError(.invalidArgument, "a \(shape.name) of radius \(radius) covers no pixel")
        }
        return SceneObject(shape: shape, centerX: centerX, centerY: centerY, radius: radius, rotation: rotation,
                           color: color.map { UInt8(($0 * 255).rounded()) }, mask: mask, box: box)
    }

    /// Rec. 601 luma of an RGB colour in 0–1.
    private func luminance(_ rgb: [Double]) -> Double { 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] }

    /// The shape drawn alone on an A8 surface, thresholded at half coverage.
    private func coverage(of shape: ShapeClass, centerX: Double, centerY: Double, radius: Double, rotation: Double) throws -> [Bool] {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_A8, Int32(size), Int32(size))!
        defer { cairo_surface_destroy(surface) }
        let context = cairo_create(surface)!
        defer { cairo_destroy(context) }
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_EVEN_ODD)
        shape.addPath(to: context, centerX: centerX, centerY: centerY, radius: radius, rotation: rotation)
        cairo_fill(context)
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var mask = [Bool](repeating: false, count: size * size)
        for y in 0..<size {
            for x in 0..<size where data[y * stride + x] >= 128 { mask[y * size + x] = true }
        }
        return mask
    }

    /// The surface as RGB bytes, with the texture and the per-pixel noise added.
    private func pixels(of surface: OpaquePointer, random: inout SceneRandom) -> RGBImage {
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = UnsafeRawPointer(cairo_image_surface_get_data(surface)!)
        let amplitude = noise * random.uniform(0.3...1)
        let texture = random.uniform(0...0.06)
        let frequencyX = random.uniform(-0.6...0.6), frequencyY = random.uniform(-0.6...0.6), phase = random.uniform(0...(2 * .pi))
        var bytes = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            let row = (data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<size {
                let value = row[x]
                let wave = texture * sin(frequencyX * Double(x) + frequencyY * Double(y) + phase)
                for channel in 0..<3 {
                    let byte = Double((value >> UInt32(16 - 8 * channel)) & 0xFF) / 255
                    let noisy = byte + wave + amplitude * random.uniform(-1...1)
                    bytes[(y * size + x) * 3 + channel] = UInt8((min(max(noisy, 0), 1) * 255).rounded())
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: bytes)
    }
}

/// The random stream of one scene: SplitMix64 seeded from (generator seed, scene index).
struct SceneRandom {
    var generator: NetworkBuilder.SplitMix64

    init(seed: UInt64, index: Int) {
        var mixer = NetworkBuilder.SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        generator = NetworkBuilder.SplitMix64(seed: mixer.next())
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func unit() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }

    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    mutating func integer(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(unit() * Double(range.count))
    }
}
