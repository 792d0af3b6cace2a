import RecorderCore

/// What the daemon needs from one recording session; `recorderd` conforms `RecordingSession` to it.
///
/// Keeping the daemon on this protocol lets DaemonControl build and be tested without the capture,
/// input, state and storage modules.
public protocol SessionHost: AnyObject, Sendable {
    /// Starts every thread; returns once frames are being recorded.
    func start() throws(RecorderError)
    /// Asks the session to end; the first reason wins.
    func stop(_ reason: EndReason, detail: String?)
    /// Blocks until the file is sealed and returns the final summary.
    func waitForEnd() -> SessionProgress
    /// The live status, cheap enough to call on every `status` request.
    func progress() -> SessionProgress
    /// Per-thread progress counters; a counter that stops moving means a stuck thread.
    func heartbeats() -> [String: Int64]
    /// True once a stop was requested by anyone.
    var isStopping: Bool { get }
}

/// A session's status as the daemon reports it (`status`, `stop`, sd_notify STATUS=).
public struct SessionProgress: Sendable, Equatable {
    /// "starting", "recording", "stopping", "ended" or "failed".
    public var state: String
    public var file: String
    public var durationSeconds: Double
    public var framesWritten: Int64
    /// Frames grabbed but dropped because the writer was behind.
    public var framesDropped: Int64
    /// Schedule slots missed because capture was late.
    public var ticksMissed: Int64
    /// Frames written during the last full second.
    public var fpsLastSecond: Int64
    public var inputEvents: Int64
    public var inputDevices: Int64
    public var stateSamples: Int64
    /// Size of the file after the last flush.
    public var bytesWritten: Int64
    /// Free bytes on the output file's filesystem.
    public var freeDiskBytes: Int64?
    public var endReason: String?
    public var cleanShutdown: Bool?
    public var error: String?
    /// The session's whole report (the fields above and more), named like the reply fields.
    public var report: JSONValue?

    public init(
        state: String, file: String, durationSeconds: Double = 0, framesWritten: Int64 = 0, framesDropped: Int64 = 0,
        ticksMissed: Int64 = 0, fpsLastSecond: Int64 = 0, inputEvents: Int64 = 0, inputDevices: Int64 = 0,
        stateSamples: Int64 = 0, bytesWritten: Int64 = 0, freeDiskBytes: Int64? = nil, endReason: String? = nil,
        cleanShutdown: Bool? = nil, error: String? = nil, report: JSONValue? = nil
    ) {
        self.state = state
        self.file = file
        self.durationSeconds = durationSeconds
        self.framesWritten = framesWritten
        self.framesDropped = framesDropped
        self.ticksMissed = ticksMissed
        self.fpsLastSecond = fpsLastSecond
        self.inputEvents = inputEvents
        self.inputDevices = inputDevices
        self.stateSamples = stateSamples
        self.bytesWritten = bytesWritten
        self.freeDiskBytes = freeDiskBytes
        self.endReason = endReason
        self.cleanShutdown = cleanShutdown
        self.error = error
        self.report = report
    }

    /// The fields of a reply object (`state`, `file`, `frames_written`, ... and `report`).
    public var jsonFields: [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "state": .string(state), "file": .string(file), "duration_seconds": .double(durationSeconds),
            "frames_written": .int(framesWritten), "frames_dropped": .int(framesDropped), "ticks_missed": .int(ticksMissed),
            "fps_last_second": .int(fpsLastSecond), "input_events": .int(inputEvents), "input_devices": .int(inputDevices),
            "state_samples": .int(stateSamples), "bytes_written": .int(bytesWritten), "free_disk_bytes": .optional(freeDiskBytes),
        ]
        if let endReason { fields["end_reason"] = .string(endReason) }
        if let cleanShutdown { fields["clean_shutdown"] = .bool(cleanShutdown) }
        if let error { fields["session_error"] = .string(error) }
        if let report { fields["report"] = report }
        return fields
    }
}

/// The parts of recorderd that need the other modules, handed to the daemon as closures.
public struct DaemonHooks: Sendable {
    /// Makes (but does not start) a session for the given options.
    public var makeSession: @Sendable (SessionOptions) -> any SessionHost
    /// A finished file's summary as a JSON object (HDF5Store's SessionInspector); nil lists names only.
    /// Called only while no session runs: HDF5 is touched by one thread at a time.
    public var summarize: (@Sendable (String) throws -> JSONValue)?
    /// Repairs a file a killed session left unsealed; returns what it did, or nil when the file was
    /// already sealed (HDF5Store's SessionRecovery). Called at start-up, before any session.
    public var recover: (@Sendable (String) throws -> String?)?

    public init(
        makeSession: @escaping @Sendable (SessionOptions) -> any SessionHost,
        summarize: (@Sendable (String) throws -> JSONValue)? = nil,
        recover: (@Sendable (String) throws -> String?)? = nil
    ) {
        self.makeSession = makeSession
        self.summarize = summarize
        self.recover = recover
    }
}
