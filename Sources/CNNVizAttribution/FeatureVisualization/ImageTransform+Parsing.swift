import CNNVizRuntime
import Foundation

extension ImageTransform {
    /// The transforms of a command line: "standard" (Lucent's), "none", or comma-separated
    /// items pad=W[@FILL] (fill 0.5 by default), jitter=D, scale=A:B:STEP or scale=S,
    /// rotate=A:B:STEP or rotate=DEGREES, applied in the order given. A range includes both
    /// ends (0.9:1.1:0.02 is Lucent's eleven scales).
    public static func list(parsing text: String) throws -> [ImageTransform] {
        switch text {
        case "standard": return standard
        case "none": return []
        default: break
        }
        func numbers(_ value: Substring) -> [Double]? {
            let parts = value.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
            return parts.contains(nil) ? nil : parts.map { $0! }
        }
        func values(_ value: Substring) -> [Double]? {
            guard let parts = numbers(value) else { return nil }
            if parts.count == 1 { return parts }
            guard parts.count == 3, parts[2] > 0, parts[0] <= parts[1] else { return nil }
            let count = Int(((parts[1] - parts[0]) / parts[2]).rounded()) + 1
            // Rounded to 1e-9, so that 0.9 + 5 × 0.02 is 1 and not 1.0000000000000002 (whose
            // ⌈s·H⌉ would be one pixel larger).
            return (0..<count).map { ((parts[0] + Double($0) * parts[2]) * 1e9).rounded() / 1e9 }
        }
        return try text.split(separator: ",").map { item in
            let pair = item.split(separator: "=", maxSplits: 1)
            let failure = CNNVizError(.invalidArgument, "--transforms: '\(item)' is not pad=W[@FILL], jitter=D, scale=A:B:STEP or rotate=A:B:STEP (or standard, none)")
            guard pair.count == 2 else { throw failure }
            switch pair[0] {
            case "pad":
                let parts = pair[1].split(separator: "@", maxSplits: 1)
                guard let width = Int(parts[0]), width >= 0, let fill = parts.count == 2 ? Float(parts[1]) : 0.5 else { throw failure }
                return .pad(width, value: fill)
            case "jitter":
                guard let d = Int(pair[1]), d >= 1 else { throw failure }
                return .jitter(d)
            case "scale":
                guard let factors = values(pair[1]), factors.allSatisfy({ $0 > 0 }) else { throw failure }
                return .scale(factors)
            case "rotate":
                guard let angles = values(pair[1]) else { throw failure }
                return .rotate(angles)
            default: throw failure
            }
        }
    }
}
