import CNNVizRuntime
import Foundation

/// The random transforms applied to the images at each optimisation step (transformation
/// robustness), as Lucent defines them. Each step draws one value per transform for the whole
/// batch from a seeded generator, as Lucent does with numpy's.
///
/// - `pad(w, value)`: w pixels on every side, filled with `value`;
/// - `jitter(d)`: a shift by (dx, dy), each drawn from 0..<d, zeros coming in (kornia's
///   `translate`);
/// - `scale(factors)`: bilinear resize with aligned corners to ⌈s·H⌉ × ⌈s·W⌉, then, when
///   smaller, zeros to pad back (Lucent's `random_scale`; its padding puts ⌈(W − W')/2⌉ on the
///   left and top and ⌈(H − H')/2⌉ on the right and bottom, which differ only for non-square
///   images);
/// - `rotate(degrees)`: about the centre ((W − 1)/2, (H − 1)/2), counter-clockwise for
///   positive angles, bilinear with zeros outside (kornia's `warp_affine`).
///
/// Pitfall: `scale` changes the image's size, so the model must take any size, or the step
/// resizes the result to the model's fixed size (`FeatureVisualization` does).
public enum ImageTransform: Sendable, Equatable {
    case pad(Int, value: Float)
    case jitter(Int)
    case scale([Double])
    case rotate([Double])

    /// Lucent's `standard_transforms`: pad 12 with 0.5, jitter 8, scale 0.9…1.1 by 0.02,
    /// rotate −10…10° and five more 0°, jitter 4.
    public static let standard: [ImageTransform] = [
        .pad(12, value: 0.5), .jitter(8), .scale((0..<11).map { 1 + Double($0 - 5) / 50 }),
        .rotate((-10...10).map(Double.init) + [0, 0, 0, 0, 0]), .jitter(4),
    ]

    /// One draw of the transform: what it does at one step.
    public enum Drawn: Sendable, Equatable {
        case pad(Int, value: Float)
        case translate(dx: Int, dy: Int)
        case scale(Double)
        case rotate(degrees: Double)
    }

    /// Draws the step's value: uniform over the choices (jitter: over 0..<d, x then y).
    public func draw<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Drawn {
        switch self {
        case .pad(let width, let value): return .pad(width, value: value)
        case .jitter(let d): return .translate(dx: Int.random(in: 0..<d, using: &generator), dy: Int.random(in: 0..<d, using: &generator))
        case .scale(let factors): return .scale(factors[Int.random(in: 0..<factors.count, using: &generator)])
        case .rotate(let angles): return .rotate(degrees: angles[Int.random(in: 0..<angles.count, using: &generator)])
        }
    }
}

extension ImageTransform.Drawn {
    /// The transform applied to a [B, C, H, W] batch, and how to take a gradient back through it.
    public func apply(_ images: Tensor) -> (output: Tensor, adjoint: (Tensor) -> Tensor) {
        let (height, width) = (images.shape[2], images.shape[3])
        switch self {
        case .pad(let padding, let value):
            return (Self.padded(images, top: padding, left: padding, bottom: padding, right: padding, value: value),
                    { Self.cropped($0, top: padding, left: padding, height: height, width: width) })
        case .translate(let dx, let dy):
            return (Self.shifted(images, dx: dx, dy: dy), { Self.shifted($0, dx: -dx, dy: -dy) })
        case .scale(let value) where value == 1, .rotate(let value) where value == 0:
            // Bilinear at the pixels themselves: every tap weighs 1 or 0, so the identity, exactly.
            return (images, { $0 })
        case .scale(let factor):
            let scaledHeight = Int((factor * Double(height)).rounded(.up)), scaledWidth = Int((factor * Double(width)).rounded(.up))
            let padX = max(0, Int((Double(width - scaledWidth) / 2).rounded(.up))), padY = max(0, Int((Double(height - scaledHeight) / 2).rounded(.up)))
            let (resized, resizeAdjoint) = Self.resampled(images, AlignedCornersResize(input: (height, width), output: (scaledHeight, scaledWidth)))
            let output = Self.padded(resized, top: padY, left: padY, bottom: padX, right: padX, value: 0)
            return (output, { resizeAdjoint(Self.cropped($0, top: padY, left: padY, height: scaledHeight, width: scaledWidth)) })
        case .rotate(let degrees):
            let radians = degrees * Double.pi / 180, (c, s) = (cos(radians), sin(radians))
            let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
            return Self.resampled(images, BilinearResampling(input: (height, width), output: (height, width)) { x, y in
                let (dx, dy) = (Double(x) - cx, Double(y) - cy)
                return (Float(cx + c * dx - s * dy), Float(cy + s * dx + c * dy))
            })
        }
    }

    static func resampled(_ images: Tensor, _ resampling: some ImageResampling) -> (output: Tensor, adjoint: (Tensor) -> Tensor) {
        (resampling.apply(images), resampling.adjoint)
    }

    /// Every plane framed by `value`.
    /// out[y, x] = in[y − dy, x − dx], 0 where that falls outside: an integer translation
    /// (bilinear at whole-pixel offsets reads one tap). Its adjoint is the opposite shift.
    static func shifted(_ images: Tensor, dx: Int, dy: Int) -> Tensor {
        let (height, width) = (images.shape[2], images.shape[3])
        let rows = max(0, height - abs(dy)), columns = max(0, width - abs(dx))
        return copyingRows(images, to: (height, width), fill: 0, rows: rows, columns: columns,
                           from: (max(0, -dy), max(0, -dx)), to: (max(0, dy), max(0, dx)))
    }

    static func padded(_ images: Tensor, top: Int, left: Int, bottom: Int, right: Int, value: Float) -> Tensor {
        let (height, width) = (images.shape[2], images.shape[3])
        return copyingRows(images, to: (height + top + bottom, width + left + right), fill: value, rows: height, columns: width,
                           from: (0, 0), to: (top, left))
    }

    /// The window of each plane at (top, left) of the given size.
    static func cropped(_ images: Tensor, top: Int, left: Int, height: Int, width: Int) -> Tensor {
        copyingRows(images, to: (height, width), fill: 0, rows: height, columns: width, from: (top, left), to: (0, 0))
    }

    /// A [B, C, size] batch with, in each plane, the block of rows × columns whose top left is
    /// `from` in the input copied to `to` and `fill` around it; planes in parallel, each value
    /// written once.
    private static func copyingRows(_ images: Tensor, to size: (height: Int, width: Int), fill: Float, rows: Int, columns: Int,
                                    from source: (row: Int, column: Int), to target: (row: Int, column: Int)) -> Tensor {
        let (planes, inHeight, inWidth) = (images.shape[0] * images.shape[1], images.shape[2], images.shape[3])
        let (inPlane, outPlane) = (inHeight * inWidth, size.height * size.width)
        return images.withFloats { input in
            Tensor.filled(shape: Array(images.shape.prefix(2)) + [size.height, size.width]) { output in
                let (input, output) = (input.baseAddress!, output.baseAddress!)
                Parallel.forEach(planes) { plane in
                    let out = output + plane * outPlane
                    guard rows > 0, columns > 0 else { return out.initialize(repeating: fill, count: outPlane) }
                    let right = size.width - target.column - columns
                    out.initialize(repeating: fill, count: target.row * size.width)
                    for row in 0..<rows {
                        let line = out + (row + target.row) * size.width
                        line.initialize(repeating: fill, count: target.column)
                        (line + target.column).initialize(from: input + plane * inPlane + (row + source.row) * inWidth + source.column, count: columns)
                        (line + target.column + columns).initialize(repeating: fill, count: right)
                    }
                    let below = (target.row + rows) * size.width
                    (out + below).initialize(repeating: fill, count: outPlane - below)
                }
            }
        }
    }
}
