import Foundation
import Synchronization

/// A fixed set of helper threads that spin briefly between jobs before sleeping, and share
/// out each job's items dynamically.
///
/// A forward pass issues hundreds of short parallel loops. Waking a sleeping thread for each
/// (as Dispatch's concurrentPerform does) costs several microseconds per loop, which adds up
/// to milliseconds on a small network. Helpers here spin for a while after each job, so the
/// next loop starts at once; then they sleep on a semaphore and cost nothing. Items are
/// claimed one at a time from a shared counter, so that when another process slows one core
/// down (a shared machine), the other threads take over its share instead of waiting for it.
///
/// Protocol: the caller publishes a job (body, count) under a new tag t: `job` ← (t, count),
/// `nextIndex` ← (t, 0), then bumps `generation`. A participant reads `job` once, then claims
/// indices by compare-and-swap on `nextIndex`, only while its tag is still t and the index is
/// below that job's count. The caller returns once `finishedItems == count`, after parking
/// `nextIndex` at (t, max). The body is read only by a thread that has claimed an item, which
/// happens only while the caller waits. A loop started from inside a job (nested
/// parallelism) runs inline on its thread.
///
/// Pitfall (a crash seen in training): with an untagged counter, a helper could take an index
/// beyond job A's count, be preempted, and compare it with job B's larger count once B had
/// begun; it then ran an item of B that B also handed out, B finished early, and the body
/// escaped `withoutActuallyEscaping`. The tag makes a claim and its bound belong to one job.
/// Tags wrap after 2²⁴ jobs; a helper would have to sleep through that many to be confused.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(helpers: Parallel.workers - 1)
    /// Indices and counts live in the low 39 bits, the job's tag in the 24 above them.
    static let indexBits = 39
    static let parked = (1 << indexBits) - 1

    static func pack(tag: Int, _ value: Int) -> Int { (tag & 0xFF_FFFF) << indexBits | value }
    static func tag(of packed: Int) -> Int { packed >> indexBits }
    static func value(of packed: Int) -> Int { packed & parked }

    private let generation = Atomic<Int>(0)
    /// (tag, next unclaimed index), packed by `pack`.
    private let nextIndex = Atomic<Int>(WorkerPool.pack(tag: 0, WorkerPool.parked))
    /// (tag, item count) of the current job.
    private let job = Atomic<Int>(WorkerPool.pack(tag: 0, 0))
    private var tag = 0
    private let finishedItems = Atomic<Int>(0)
    private let sleepingHelpers = Atomic<Int>(0)
    private let sleepRequested = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let submission = NSLock()
    private var body: ((Int, Int) -> Void)?
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

    /// Runs body(index, participant) for index in 0..<count across the caller (participant 0)
    /// and the helpers (1…H); returns when all items are done. `participant` lets a body use
    /// per-thread scratch memory.
    func run(_ count: Int, _ body: (_ index: Int, _ participant: Int) -> Void) {
        guard helpers > 0, count > 1, count < WorkerPool.parked, submission.try() else {
            for i in 0..<count { body(i, 0) }
            return
        }
        defer { submission.unlock() }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            tag = (tag + 1) & 0xFF_FFFF
            finishedItems.store(0, ordering: .sequentiallyConsistent)
            sleepRequested.store(false, ordering: .sequentiallyConsistent)
            job.store(WorkerPool.pack(tag: tag, count), ordering: .sequentiallyConsistent)
            nextIndex.store(WorkerPool.pack(tag: tag, 0), ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            let sleepers = sleepingHelpers.load(ordering: .sequentiallyConsistent)
            for _ in 0..<sleepers { wake.signal() }
            work(participant: 0)
            var spins = 0
            while finishedItems.load(ordering: .sequentiallyConsistent) < count {
                // If a helper shares this core (an oversubscribed machine), spinning only delays it.
                spins += 1
                if spins > 2_000 { sched_yield() }
            }
            nextIndex.store(WorkerPool.pack(tag: tag, WorkerPool.parked), ordering: .sequentiallyConsistent)
            self.body = nil
        }
    }

    /// Sends the spinning helpers to sleep at once, until the next job: the caller is about to
    /// hand the cores to another thread pool (oneDNN's OpenMP threads), and helpers spinning
    /// on the same cores would slow it down (their sched_yield calls took 16% of a
    /// `visualize` run's cycles). The next `run` wakes them, at a semaphore's cost.
    func sleepHelpers() {
        sleepRequested.store(true, ordering: .sequentiallyConsistent)
    }

    private func work(participant: Int) {
        let current = job.load(ordering: .sequentiallyConsistent)
        let jobTag = WorkerPool.tag(of: current), count = WorkerPool.value(of: current)
        var claim = nextIndex.load(ordering: .sequentiallyConsistent)
        while WorkerPool.tag(of: claim) == jobTag, WorkerPool.value(of: claim) < count {
            let (exchanged, seen) = nextIndex.compareExchange(expected: claim, desired: claim + 1,
                                                              ordering: .sequentiallyConsistent)
            guard exchanged else {
                claim = seen
                continue
            }
            runItem(WorkerPool.value(of: claim), participant: participant)
            finishedItems.add(1, ordering: .sequentiallyConsistent)
            claim = nextIndex.load(ordering: .sequentiallyConsistent)
        }
    }

    /// Calls the body for one item. Kept out of line so that this thread's reference to the
    /// closure is released before the item counts as finished: the caller's
    /// `withoutActuallyEscaping` checks that nobody holds the closure once the job is over.
    @inline(never)
    private func runItem(_ index: Int, participant: Int) {
        body?(index, participant)
    }

    private func helperLoop(participant: Int) {
        var seen = 0
        var spins = 0
        while true {
            let current = generation.load(ordering: .sequentiallyConsistent)
            if current != seen {
                seen = current
                work(participant: participant)
                spins = 0
            }
            spins += 1
            if spins > 2_000 { sched_yield() }
            if spins > WorkerPool.spinIterations || sleepRequested.load(ordering: .relaxed) {
                sleepingHelpers.add(1, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                sleepingHelpers.subtract(1, ordering: .sequentiallyConsistent)
                spins = 0
            }
        }
    }
}
