import Foundation

/// A value computed on a background thread, waited for when needed: a dataset run decodes
/// the next image while the current one is explained (the run's model threads leave gaps
/// between layers that the decode fills). The work's error is rethrown by `value()`, so a
/// corrupt next image fails as its own input, in its turn.
final class Prefetched<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async {
            self.result = Result(catching: work)
            self.done.signal()
        }
    }

    /// Waits for the work, then returns its value or rethrows its error (any number of times).
    func value() throws -> Value {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
