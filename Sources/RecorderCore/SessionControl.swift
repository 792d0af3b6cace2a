import Synchronization

/// The run state every worker of one session shares: when to start, when to stop, and why it ended.
///
/// Workers poll `shouldStop` between units of work (a frame, an epoll round) and never hold a lock while doing so.
public final class SessionControl: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let reason = Mutex<(EndReason, String?)?>(nil)
    private let startTime = Atomic<Int64>(0)
    /// Rung on start and on stop so sleeping workers re-check.
    public let bell = Doorbell()

    public init() {}

    /// True once any party asked the session to end.
    @inline(__always)
    public var shouldStop: Bool { stopFlag.load(ordering: .acquiring) }

    /// Asks every worker to finish; the first reason given is the one stored in the file.
    public func requestStop(_ why: EndReason, detail: String? = nil) {
        reason.withLock { current in
            if current == nil { current = (why, detail) }
        }
        stopFlag.store(true, ordering: .releasing)
        bell.ring()
    }

    /// The first stop reason given, with its detail, or nil while running.
    public var endReason: (reason: EndReason, detail: String?)? {
        reason.withLock { $0.map { (reason: $0.0, detail: $0.1) } }
    }

    /// Publishes the session's time zero (CLOCK_MONOTONIC ns): tick 0 of the capture schedule.
    public func begin(at monotonicNs: Int64) {
        startTime.store(monotonicNs, ordering: .releasing)
        bell.ring()
    }

    /// Time zero, or nil before `begin`.
    public var startedAt: Int64? {
        let t = startTime.load(ordering: .acquiring)
        return t == 0 ? nil : t
    }

    /// Waits for `begin` (returns time zero) or a stop request (returns nil).
    public func waitForStart() -> Int64? {
        while true {
            let seen = bell.sequence
            if let t = startedAt { return t }
            if shouldStop { return nil }
            bell.wait(seen: seen, timeoutNanoseconds: 100_000_000)
        }
    }

    /// Sleeps until `deadline` (CLOCK_MONOTONIC ns) or a stop request, whichever comes first.
    /// - Returns: false when woken by a stop request.
    public func sleep(until deadline: Int64) -> Bool {
        while !shouldStop {
            let seen = bell.sequence
            let left = deadline - MonotonicClock.now()
            if left <= 0 { return true }
            if shouldStop { return false }
            bell.wait(seen: seen, timeoutNanoseconds: left)
        }
        return false
    }
}
