import Synchronization

/// Counters every thread of a session bumps and `status` reads, all lock-free.
public final class SessionStatistics: Sendable {
    /// Frames grabbed and handed to the writer.
    public let framesCaptured = Atomic<Int64>(0)
    /// Frames grabbed but dropped because no slot was free (the writer was behind).
    public let framesDropped = Atomic<Int64>(0)
    /// Schedule slots skipped because a grab overran its slot (capture was late).
    public let ticksMissed = Atomic<Int64>(0)
    /// Grabs that failed (X error, target missing).
    public let grabFailures = Atomic<Int64>(0)
    /// Frames stored in the file.
    public let framesWritten = Atomic<Int64>(0)
    /// Frames stored as whole images (reference -1).
    public let keyframesWritten = Atomic<Int64>(0)
    /// Uncompressed RGB bytes of frames written.
    public let rawFrameBytes = Atomic<Int64>(0)
    /// Compressed frame bytes written.
    public let storedFrameBytes = Atomic<Int64>(0)
    /// Input events read (real and synthetic).
    public let inputEvents = Atomic<Int64>(0)
    /// Input events lost because the ring was full.
    public let inputDropped = Atomic<Int64>(0)
    /// SYN_DROPPED markers seen from the kernel.
    public let inputSynDropped = Atomic<Int64>(0)
    /// Devices seen so far.
    public let inputDevices = Atomic<Int64>(0)
    /// Input events stored in the file.
    public let inputEventsWritten = Atomic<Int64>(0)
    /// State samples taken and stored.
    public let stateSamples = Atomic<Int64>(0)
    public let stateSamplesWritten = Atomic<Int64>(0)
    /// State samples dropped (mailbox full).
    public let stateDropped = Atomic<Int64>(0)
    /// X protocol errors seen by any connection.
    public let xErrors = Atomic<Int64>(0)
    /// Size of the file on disk after the last flush.
    public let fileBytes = Atomic<Int64>(0)
    /// Frames written during the last full second (updated by the writer once a second).
    public let framesLastSecond = Atomic<Int64>(0)
    /// Progress heartbeats: each thread bumps its own once per loop, the watchdog checks they move.
    public let captureHeartbeat = Atomic<Int64>(0)
    public let inputHeartbeat = Atomic<Int64>(0)
    public let stateHeartbeat = Atomic<Int64>(0)
    public let writerHeartbeat = Atomic<Int64>(0)

    public init() {}

    /// A plain copy of every counter, for status replies and summaries.
    public func snapshot() -> Snapshot {
        Snapshot(
            framesCaptured: framesCaptured.load(ordering: .relaxed),
            framesDropped: framesDropped.load(ordering: .relaxed),
            ticksMissed: ticksMissed.load(ordering: .relaxed),
            grabFailures: grabFailures.load(ordering: .relaxed),
            framesWritten: framesWritten.load(ordering: .relaxed),
            keyframesWritten: keyframesWritten.load(ordering: .relaxed),
            rawFrameBytes: rawFrameBytes.load(ordering: .relaxed),
            storedFrameBytes: storedFrameBytes.load(ordering: .relaxed),
            inputEvents: inputEvents.load(ordering: .relaxed),
            inputDropped: inputDropped.load(ordering: .relaxed),
            inputSynDropped: inputSynDropped.load(ordering: .relaxed),
            inputDevices: inputDevices.load(ordering: .relaxed),
            inputEventsWritten: inputEventsWritten.load(ordering: .relaxed),
            stateSamples: stateSamples.load(ordering: .relaxed),
            stateSamplesWritten: stateSamplesWritten.load(ordering: .relaxed),
            stateDropped: stateDropped.load(ordering: .relaxed),
            xErrors: xErrors.load(ordering: .relaxed),
            fileBytes: fileBytes.load(ordering: .relaxed),
            framesLastSecond: framesLastSecond.load(ordering: .relaxed)
        )
    }

    /// Plain values of `SessionStatistics` at one moment.
    public struct Snapshot: Sendable, Codable, Equatable {
        public var framesCaptured: Int64
        public var framesDropped: Int64
        public var ticksMissed: Int64
        public var grabFailures: Int64
        public var framesWritten: Int64
        public var keyframesWritten: Int64
        public var rawFrameBytes: Int64
        public var storedFrameBytes: Int64
        public var inputEvents: Int64
        public var inputDropped: Int64
        public var inputSynDropped: Int64
        public var inputDevices: Int64
        public var inputEventsWritten: Int64
        public var stateSamples: Int64
        public var stateSamplesWritten: Int64
        public var stateDropped: Int64
        public var xErrors: Int64
        public var fileBytes: Int64
        public var framesLastSecond: Int64
    }
}

extension Atomic where Value == Int64 {
    /// Adds `amount` with relaxed ordering (counters need no ordering).
    @inline(__always)
    public func bump(_ amount: Int64 = 1) { _ = add(amount, ordering: .relaxed) }
}
