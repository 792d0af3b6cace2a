import CX11Shim
import Logging
import RecorderCore
import Synchronization

/// The 5 FPS game-state sampler: reads the cursor, the focused window and the configured probes off the screen
/// on its own X connection and its own SHM segment, so it never shares (or stalls) the capture thread's.
public final class StateWorker: Sendable {
    public static let threadName = "rec-state"
    /// Shortest gap between two `x-error` notes, so a broken probe cannot flood the log.
    static let errorNoteInterval: Int64 = 1_000_000_000

    /// Which X connection the worker opened, for diagnostics and the proof that it is its own.
    public struct ConnectionIdentity: Sendable, Equatable {
        /// The socket's file descriptor in this process.
        public var fileDescriptor: Int32
        /// The XID base the server assigned to the connection (unique per client connection).
        public var resourceBase: UInt64
        /// True when probe regions are read through the worker's MIT-SHM segment, false for XGetImage.
        public var sharedMemory: Bool
        /// Size of that segment in bytes (0 without MIT-SHM or without pixel probes).
        public var segmentBytes: Int
    }

    private let configuration: StateConfiguration
    private let control: SessionControl
    private let statistics: SessionStatistics
    private let samples: BoundedMailbox<StateSample>
    private let windows: BoundedMailbox<WindowSnapshot>
    private let notes: BoundedMailbox<SessionNote>
    private let logger: Logger
    private let focusedWindow: FocusedWindow
    private let published = Mutex<(StateSchema, ConnectionIdentity)?>(nil)
    private let costs = Mutex(Cost())

    /// What sampling has cost so far, for benchmarks and the session summary.
    public struct Cost: Sendable, Equatable {
        /// Samples taken.
        public var samples: Int64 = 0
        /// Wall time spent inside samples (grabs, window queries, measurements), summed.
        public var sampleNanoseconds: Int64 = 0
        /// The longest single sample.
        public var slowestSampleNanoseconds: Int64 = 0
        /// CPU time of the state thread since it started (user + system).
        public var threadCPUNanoseconds: Int64 = 0
    }

    /// A copy of the running cost figures.
    public var cost: Cost { costs.withLock { $0 } }

    public init(configuration: StateConfiguration, control: SessionControl, statistics: SessionStatistics,
                samples: BoundedMailbox<StateSample>, windows: BoundedMailbox<WindowSnapshot>,
                notes: BoundedMailbox<SessionNote>, focusedWindow: FocusedWindow, logger: Logger) {
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.samples = samples
        self.windows = windows
        self.notes = notes
        self.focusedWindow = focusedWindow
        self.logger = logger
    }

    /// The sample layout and `/state` attributes; nil until `run` has loaded the probes.
    public var schema: StateSchema? { published.withLock { $0?.0 } }

    /// The worker's own connection; nil until `run` has opened it.
    public var connection: ConnectionIdentity? { published.withLock { $0?.1 } }

    /// Runs on its own NamedThread: opens its own Display, loads and validates the probes against the screen
    /// (failure -> `startup.fail`), publishes `schema`, arrives, waits for the session start, then samples on
    /// absolute deadlines until the session stops, and closes everything it opened.
    public func run(startup: StartupBarrier) {
        guard configuration.rateHz > 0, configuration.rateHz.isFinite else {
            startup.fail(Self.threadName, message: "state sampler: rate \(configuration.rateHz) Hz must be a positive number")
            return
        }
        let notes = NoteSink(source: "state", logger: logger, mailbox: self.notes)
        let sampler: StateSampler
        do {
            sampler = try StateSampler(configuration: configuration)
        } catch let failure {
            startup.fail(Self.threadName, message: failure.description)
            return
        }
        defer { sampler.close() }
        let identity = ConnectionIdentity(
            fileDescriptor: sampler.connection.fileDescriptor,
            resourceBase: sampler.connection.resourceBase,
            sharedMemory: sampler.usesSharedMemory,
            segmentBytes: sampler.segmentBytes
        )
        published.withLock { $0 = (sampler.schema, identity) }
        if !sampler.usesSharedMemory, sampler.plan != .nothing {
            notes.post("shm-unavailable", "MIT-SHM unavailable on the state connection; probe regions are read with XGetImage")
        }
        startup.arrive(Self.threadName)
        guard let start = control.waitForStart() else { return }
        sampleLoop(sampler, start: start, notes: notes)
    }

    private func sampleLoop(_ sampler: StateSampler, start: Int64, notes: NoteSink) {
        let schedule = SampleSchedule(start: start, rateHz: configuration.rateHz)
        var slot: Int64 = 0
        var lastSent: WindowSnapshot?
        // Errors of the set-up (a refused SHM attach) are already reported as `shm-unavailable`.
        var errorsSeen = sampler.errorCount
        var lastErrorNote: Int64?
        while !control.shouldStop {
            guard control.sleep(until: schedule.deadline(of: slot)) else { break }
            let now = MonotonicClock.now()
            let (sample, focus) = sampler.sample(at: now)
            statistics.stateHeartbeat.bump()
            if sampler.isDisplayLost {
                notes.post("display-lost", "the state connection to \(configuration.display ?? "$DISPLAY") broke", level: .error)
                control.requestStop(.displayLost, detail: "state sampler lost the X connection")
                break
            }
            if samples.trySend(sample) {
                statistics.stateSamples.bump()
            } else {
                statistics.stateDropped.bump()
            }
            lastSent = publish(focus, at: now, lastSent: lastSent)
            let errors = sampler.errorCount
            if errors > errorsSeen {
                statistics.xErrors.bump(Int64(errors - errorsSeen))
                if lastErrorNote.map({ now - $0 >= Self.errorNoteInterval }) ?? true {
                    notes.post("x-error", "\(errors - errorsSeen) X error(s) on the state connection; last: \(sampler.connection.lastErrorDescription)")
                    lastErrorNote = now
                }
                errorsSeen = errors
            }
            let finished = MonotonicClock.now()
            recordCost(sampleNanoseconds: finished - now)
            slot = schedule.slot(after: slot, now: finished)
        }
    }

    private func recordCost(sampleNanoseconds: Int64) {
        let cpu = MonotonicClock.threadCPUTime()
        costs.withLock { cost in
            cost.samples += 1
            cost.sampleNanoseconds += sampleNanoseconds
            cost.slowestSampleNanoseconds = max(cost.slowestSampleNanoseconds, sampleNanoseconds)
            cost.threadCPUNanoseconds = cpu
        }
    }

    /// Publishes every snapshot to `FocusedWindow`; sends it to the `windows` mailbox only when it changed.
    /// - Returns: the snapshot last accepted by the mailbox (a refused one is retried on the next sample).
    private func publish(_ focus: WindowTracker.Focus, at tNs: Int64, lastSent: WindowSnapshot?) -> WindowSnapshot? {
        let snapshot = WindowSnapshot(tNs: tNs, windowID: focus.id, title: focus.title, wmClass: focus.wmClass, pid: focus.pid,
                                      x: focus.x, y: focus.y, width: focus.width, height: focus.height)
        focusedWindow.publish(focus.id == 0 ? nil : snapshot)
        if let lastSent {
            var unchanged = snapshot
            unchanged.tNs = lastSent.tNs
            if unchanged == lastSent { return lastSent }
        }
        return windows.trySend(snapshot) ? snapshot : lastSent
    }
}
