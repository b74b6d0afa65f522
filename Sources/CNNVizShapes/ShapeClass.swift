import CCairo
import Foundation

/// The six object classes of the shapes world, in class-index order.
///
/// Each is drawn as one closed Cairo path around a centre, with a size `radius` (the distance
/// from the centre to the farthest point) and a rotation. The areas differ: a cross covers
/// about 1.98·r², a circle 0.85²·π·r² ≈ 2.27·r², a star 1.32·r².
///
/// Every class covers its own centre. Pitfall, measured: an earlier sixth class, a ring, did
/// not; Grad-CAM rightly peaked in its hole, which a pointing game on the painted mask counts
/// as a miss (74% against 90%+ for the filled shapes), so the ring was replaced by a heart.
public enum ShapeClass: Int, CaseIterable, Codable, Sendable {
    case circle, square, triangle, star, cross, heart

    public var name: String { String(describing: self) }

    public static var names: [String] { allCases.map(\.name) }

    /// Adds the shape's outline to the current path of `context`.
    func addPath(to context: OpaquePointer, centerX: Double, centerY: Double, radius r: Double, rotation: Double) {
        cairo_save(context)
        cairo_translate(context, centerX, centerY)
        cairo_rotate(context, rotation)
        switch self {
        case .circle:
            cairo_arc(context, 0, 0, 0.85 * r, 0, 2 * .pi)
        case .square:
            let half = r / 2.0.squareRoot()
            cairo_rectangle(context, -half, -half, 2 * half, 2 * half)
        case .triangle:
            polygon(context, points: (0..<3).map { vertex(r, angle: Double($0) * 2 * .pi / 3) })
        case .star:
            polygon(context, points: (0..<10).map { vertex($0.isMultiple(of: 2) ? r : 0.45 * r, angle: Double($0) * .pi / 5) })
        case .cross:
            let arm = 0.95 * r, width = 0.32 * r
            polygon(context, points: [
                (width, -width), (width, -arm), (-width, -arm), (-width, -width), (-arm, -width), (-arm, width),
                (-width, width), (-width, arm), (width, arm), (width, width), (arm, width), (arm, -width),
            ])
        case .heart:
            // The heart curve x = 16 sin³t, y = −(13 cos t − 5 cos 2t − 2 cos 3t − cos 4t), 17 units
            // from the origin at its farthest (the tip), scaled to r; 64 vertices.
            let scale = r / 17
            polygon(context, points: (0..<64).map { step in
                let t = Double(step) * 2 * .pi / 64
                return (scale * 16 * pow(sin(t), 3), -scale * (13 * cos(t) - 5 * cos(2 * t) - 2 * cos(3 * t) - cos(4 * t)))
            })
        }
        cairo_restore(context)
    }

    /// A point at distance `radius` from the centre, `angle` clockwise from straight up.
    private func vertex(_ radius: Double, angle: Double) -> (Double, Double) {
        (radius * sin(angle), -radius * cos(angle))
    }

    private func polygon(_ context: OpaquePointer, points: [(Double, Double)]) {
        cairo_move_to(context, points[0].0, points[0].1)
        for point in points.dropFirst() { cairo_line_to(context, point.0, point.1) }
        cairo_close_path(context)
    }
}
