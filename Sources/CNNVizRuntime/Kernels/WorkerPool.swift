import Foundation
import Synchronization

/// A fixed set of helper threads that spin briefly between jobs before sleeping.
///
/// A forward pass issues hundreds of short parallel loops. Waking a sleeping thread for each
/// (as Dispatch's concurrentPerform does) costs several microseconds per loop, which adds up
/// to milliseconds on a small network. Helpers here spin for about 50 µs after each job, so
/// the next loop starts at once; then they sleep on a semaphore and cost nothing.
///
/// Protocol: the caller publishes a job (body, count) and bumps `generation`. Participant p
/// (the caller is 0, helpers 1…H) runs indices p, p + H + 1, …, so every thread gets its
/// share even when a helper is slow to wake. The caller waits until every participant has
/// finished and no helper is inside the job before publishing the next. A loop started from
/// inside a job (nested parallelism) runs inline on its thread.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(helpers: Parallel.workers - 1)

    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let activeHelpers = Atomic<Int>(0)
    private let sleepingHelpers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    private let submission = NSLock()
    private var body: ((Int) -> Void)?
    private var count = 0
    let helpers: Int
    static let spinIterations = 20_000

    init(helpers: Int) {
        self.helpers = helpers
        for helperIndex in 0..<helpers {
            let participant = helperIndex + 1
            let thread = Thread { [unowned self] in self.helperLoop(participant: participant) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs body(0..<count) across the caller and the helpers; returns when all are done.
    func run(_ count: Int, _ body: (Int) -> Void) {
        guard helpers > 0, count > 1, submission.try() else {
            for i in 0..<count { body(i) }
            return
        }
        defer { submission.unlock() }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            self.count = count
            finished.store(0, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            let sleepers = sleepingHelpers.load(ordering: .sequentiallyConsistent)
            for _ in 0..<sleepers { wake.signal() }
            work(participant: 0)
            var spins = 0
            while finished.load(ordering: .sequentiallyConsistent) < helpers + 1 || activeHelpers.load(ordering: .sequentiallyConsistent) > 0 {
                // If a helper shares this core (an oversubscribed machine), spinning only delays it.
                spins += 1
                if spins > 2_000 { sched_yield() }
            }
            self.body = nil
        }
    }

    private func work(participant: Int) {
        if let body {
            var index = participant
            while index < count {
                body(index)
                index += helpers + 1
            }
        }
        finished.add(1, ordering: .sequentiallyConsistent)
    }

    private func helperLoop(participant: Int) {
        var seen = 0
        var spins = 0
        while true {
            activeHelpers.add(1, ordering: .sequentiallyConsistent)
            let current = generation.load(ordering: .sequentiallyConsistent)
            if current != seen {
                seen = current
                work(participant: participant)
                spins = 0
            }
            activeHelpers.subtract(1, ordering: .sequentiallyConsistent)
            spins += 1
            if spins > 2_000 { sched_yield() }
            if spins > WorkerPool.spinIterations {
                sleepingHelpers.add(1, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                sleepingHelpers.subtract(1, ordering: .sequentiallyConsistent)
                spins = 0
            }
        }
    }
}
