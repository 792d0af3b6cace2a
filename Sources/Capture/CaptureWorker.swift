import CLinuxShim
import CX11Shim
import Logging
import RecorderCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The 60 FPS screen grabber: one dedicated thread, its own X connection, a zero-copy ring of
/// shared-memory slots, and absolute-deadline pacing that skips (never bursts) after an overrun.
public final class CaptureWorker: Sendable {
    public static let threadName = "rec-capture"
    /// The capture thread's SCHED_FIFO priority when the process may use real-time scheduling.
    static let threadRealtimePriority: Int32 = 10
    /// The capture thread's nice value when it may raise it but not use SCHED_FIFO.
    static let threadNice: Int32 = -10

    private let configuration: CaptureConfiguration
    private let control: SessionControl
    private let statistics: SessionStatistics
    private let frames: FrameChannel
    private let notes: BoundedMailbox<SessionNote>
    private let logger: Logger
    private let publishedGeometry = Mutex<FrameGeometry?>(nil)
    /// The frame memory; kept here so the writer can still read frames after the capture thread ended.
    private let slotPool = Mutex<SlotPool?>(nil)

    public init(configuration: CaptureConfiguration, control: SessionControl, statistics: SessionStatistics,
                frames: FrameChannel, notes: BoundedMailbox<SessionNote>, logger: Logger) {
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.frames = frames
        self.notes = notes
        self.logger = logger
    }

    /// Frame shape and target, set before arriving at the barrier.
    public var geometry: FrameGeometry? { publishedGeometry.withLock { $0 } }

    /// Runs on its own NamedThread: opens its own Display, finds the target, allocates the slots,
    /// publishes `geometry`, arrives at `startup` (or fails it with a clear message), waits for the
    /// session start, then grabs on the fps grid until `control.shouldStop`.
    public func run(startup: StartupBarrier) {
        // Absolute sleeps otherwise wake up to 50 µs late (the default timer slack).
        _ = CLinuxShim_set_timer_slack_ns(1)
        // The grab is ~1 ms every 16.7 ms, blocked on the X server the rest of the time, so a real-time
        // class costs others nothing and keeps the wake-up (the frame's timestamp) on the tick while the
        // compressors and the game fill both cores. Without CAP_SYS_NICE or RLIMIT_RTPRIO, fall back to
        // a higher weight (nice -10), and without that to the default.
        let fifoResult = CLinuxShim_set_thread_fifo(Self.threadRealtimePriority)
        if fifoResult == 0 {
            logger.debug("capture thread runs SCHED_FIFO \(Self.threadRealtimePriority)")
        } else {
            let niceResult = CLinuxShim_set_thread_nice(Self.threadNice)
            logger.debug("capture thread: no SCHED_FIFO (errno \(fifoResult)), nice \(niceResult == 0 ? Self.threadNice : 0)")
        }
        let session: CaptureSession
        do {
            session = try prepare()
        } catch {
            logger.error("capture cannot start: \(error)")
            startup.fail(Self.threadName, message: error.description)
            return
        }
        publishedGeometry.withLock { $0 = session.geometry }
        slotPool.withLock { $0 = session.grabber.pool }
        logger.info("capture ready: \(session.geometry.target) \(session.geometry.width)x\(session.geometry.height) at \(configuration.fps) fps, \(configuration.slotCount) slots, \(session.geometry.usesSharedMemory ? "MIT-SHM" : "XGetImage")")
        startup.arrive(Self.threadName)
        guard let start = control.waitForStart() else {
            session.close()
            return
        }
        session.run(start: start)
        session.close()
    }

    /// Opens the connection, resolves the target and attaches the slots; throws the message for the barrier.
    private func prepare() throws(RecorderError) -> CaptureSession {
        guard configuration.fps > 0 else { throw .invalidConfiguration("capture fps must be positive, got \(configuration.fps)") }
        guard configuration.slotCount > 0, configuration.slotCount <= frames.filled.capacity else {
            throw .invalidConfiguration("capture needs 1 to \(frames.filled.capacity) slots, got \(configuration.slotCount)")
        }
        let connection = try CaptureConnection(name: configuration.display)
        do {
            let target = try CaptureTarget.resolve(configuration: configuration, connection: connection)
            let forbidSharedMemory = configuration.forbidSharedMemory
                || (getenv("RECORDER_DISABLE_SHM").map { String(cString: $0) == "1" } ?? false)
            let grabber = try FrameGrabber(connection: connection, width: target.width, height: target.height,
                                           slotCount: configuration.slotCount, forbidSharedMemory: forbidSharedMemory, logger: logger)
            return CaptureSession(
                connection: connection, grabber: grabber, target: target, configuration: configuration,
                control: control, statistics: statistics, frames: frames,
                notes: NoteSink(source: "capture", logger: logger, mailbox: notes), logger: logger)
        } catch {
            connection.close()
            throw error
        }
    }
}
