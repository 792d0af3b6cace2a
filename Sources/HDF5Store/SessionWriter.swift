import CLinuxShim
import Logging
import RecorderCore
import Synchronization

/// The session's only HDF5 user: drains the capture, input and state rings into one file on its own thread.
///
/// The writer is the consumer of every ring and never makes a producer wait: frame slots go back to
/// capture as soon as their pixels are converted, and after a storage failure it keeps draining
/// (and discarding) until the producers have finished.
public final class SessionWriter: Sendable {
    public static let threadName = "rec-writer"
    /// How often buffered rows are written out and the file is flushed for readers and crash recovery.
    public static let flushIntervalNs: Int64 = 1_000_000_000
    /// The writer's nice value when it may raise it (CAP_SYS_NICE). Capture's slots come back only once
    /// the writer has converted their frames (1-3 ms of CPU each), so a writer waiting for a core behind
    /// a CPU-hungry game costs slots, then ticks; the compressors (SCHED_IDLE) give way instead.
    static let threadNice: Int32 = -5

    let configuration: WriterConfiguration
    let control: SessionControl
    let statistics: SessionStatistics
    let channels: SessionChannels
    let logger: Logger
    /// Split sessions: where the writer posts part events for the part keeper.
    let partEvents: BoundedMailbox<PartEvent>?
    private let producersDone = Atomic<Bool>(false)
    private let outcome = Mutex<WriterResult?>(nil)

    public init(
        configuration: WriterConfiguration, control: SessionControl, statistics: SessionStatistics,
        channels: SessionChannels, partEvents: BoundedMailbox<PartEvent>? = nil, logger: Logger
    ) {
        self.partEvents = partEvents
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.channels = channels
        self.logger = logger
    }

    /// Called once capture, input and state threads have exited: `run` returns once the rings are empty.
    public func producersFinished() {
        producersDone.store(true, ordering: .releasing)
        channels.doorbell.ring()
    }

    var producersHaveFinished: Bool { producersDone.load(ordering: .acquiring) }

    /// Set when `run` returns.
    public var result: WriterResult? { outcome.withLock { $0 } }

    /// Creates the file on the calling thread, reports to `startup`, drains until the producers finish,
    /// then seals the file with `control.endReason` (default `.stopped`).
    public func run(startup: StartupBarrier) {
        let niceResult = CLinuxShim_set_thread_nice(Self.threadNice)
        let loop: WriterLoop
        do {
            loop = try WriterLoop(configuration: configuration, control: control, statistics: statistics, channels: channels,
                                  partEvents: partEvents, logger: logger, producersHaveFinished: { [self] in producersHaveFinished })
        } catch {
            logger.error("writer cannot start: \(error.message)")
            startup.fail(Self.threadName, message: error.message)
            outcome.withLock {
                $0 = WriterResult(path: configuration.path, endReason: .error, endDetail: error.message, cleanShutdown: false, error: error.message)
            }
            return
        }
        let target = configuration.parts == nil ? configuration.path : "\(SessionManifest.partPath(output: configuration.path, number: 1)) and the parts after it"
        logger.info("writing \(target) (\(configuration.options.codec.rawValue), keyframe interval \(configuration.options.keyframeInterval))")
        if niceResult != 0 { logger.debug("writer thread keeps the default nice value (errno \(niceResult))") }
        startup.arrive(Self.threadName)
        loop.drainUntilProducersFinish()
        let finished = loop.finish()
        outcome.withLock { $0 = finished }
    }
}
