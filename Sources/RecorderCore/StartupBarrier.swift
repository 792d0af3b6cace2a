import Synchronization

/// Lets a starter wait until every worker thread has opened its resources, or learn which one failed.
///
/// Each worker calls `arrive()` once it is ready (display opened, devices listed) or
/// `fail(_:)` with a message; `wait` returns when all have arrived, one failed, or time ran out.
public final class StartupBarrier: Sendable {
    /// How a start-up ended.
    public enum Outcome: Equatable, Sendable {
        case ready
        case failed(worker: String, message: String)
        case timedOut(waitingFor: [String])
    }

    private struct State {
        var pending: Set<String>
        var failure: (worker: String, message: String)?
    }

    private let state: Mutex<State>
    private let bell = Doorbell()

    /// - Parameter workers: the names of every worker that must arrive.
    public init(workers: [String]) {
        state = Mutex(State(pending: Set(workers), failure: nil))
    }

    /// Called by a worker on its own thread once it is ready to run.
    public func arrive(_ worker: String) {
        state.withLock { _ = $0.pending.remove(worker) }
        bell.ring()
    }

    /// Called by a worker that cannot start; the first failure wins.
    public func fail(_ worker: String, message: String) {
        state.withLock { s in
            s.pending.remove(worker)
            if s.failure == nil { s.failure = (worker, message) }
        }
        bell.ring()
    }

    /// Waits for every worker to arrive, for the first failure, or for the timeout.
    public func wait(timeoutNanoseconds: Int64) -> Outcome {
        let deadline = MonotonicClock.now() + timeoutNanoseconds
        while true {
            let seen = bell.sequence
            let snapshot = state.withLock { s -> Outcome? in
                if let failure = s.failure { return .failed(worker: failure.worker, message: failure.message) }
                return s.pending.isEmpty ? .ready : nil
            }
            if let snapshot { return snapshot }
            let left = deadline - MonotonicClock.now()
            if left <= 0 {
                return .timedOut(waitingFor: state.withLock { $0.pending.sorted() })
            }
            bell.wait(seen: seen, timeoutNanoseconds: left)
        }
    }
}
