import FrameCodec
import Foundation
import RecorderCore

/// Everything the writer needs to lay out one session file.
public struct WriterConfiguration: Sendable {
    /// Output path; created fresh (an existing file is never replaced).
    public var path: String
    /// Codec, compression level, keyframe interval, fps and `/meta` come from here.
    public var options: SessionOptions
    public var geometry: FrameGeometry
    /// Fields of `/state/samples` after the implicit `t_ns`.
    public var stateFields: [StateField]
    /// Extra attributes of `/state` (probes_json, probe_config).
    public var stateAttributes: [String: String]
    /// Extra attributes of `/input` (sources).
    public var inputAttributes: [String: String]
    /// Extra root attributes (options_json, recorder_version).
    public var rootAttributes: [String: String]
    /// CLOCK_MONOTONIC time of tick 0; with `monoToUTCNs` it gives `started_at_utc`.
    public var sessionStartNs: Int64
    /// UTC ns = CLOCK_MONOTONIC ns + this.
    public var monoToUTCNs: Int64
    /// What residual frames are XORed against (measured default: see docs/FORMAT.md).
    public var referencePolicy: ReferencePolicy
    /// Bytes the writer leaves free on the file system; below it the session ends as disk-full.
    public var reservedFreeBytes: Int64
    /// The session's `min_free` and `quota` (checked with the reserve before each frame); nil: the reserve only.
    public var diskBudget: DiskBudget?
    /// Threads that compress frames beside the writer (see `CompressionPool`).
    public var compressionThreads: Int
    /// Test-only: each compression at the session's own level takes this much longer, which forces the
    /// pipeline behind so tests can watch compression degrade (0 in real use).
    public var testCompressionDelayNs: Int64
    /// Newest bytes of the file left in the page cache; older written bytes are dropped (`WriteBehind`).
    /// nil leaves the cache to the kernel.
    public var pageCacheWindowBytes: Int64?
    /// Set for a split session: `path` is then NAME.h5, never created; the parts are NAME.partNNNN.h5.
    public var parts: Parts?

    /// What a split session's writer needs beyond the options' `SplitPolicy`.
    public struct Parts: Sendable {
        /// The UUID every part carries (root attribute `session_id`) and the manifest names.
        public var sessionID: String
        public var policy: SplitPolicy

        public init(sessionID: String, policy: SplitPolicy) {
            self.sessionID = sessionID
            self.policy = policy
        }
    }

    /// The test-only delay from `RECORDER_TEST_COMPRESSION_DELAY_MS` (0 to 1000; anything else is 0),
    /// so a real `recorder record` can be forced behind.
    public static var testCompressionDelayFromEnvironment: Int64 {
        guard let text = ProcessInfo.processInfo.environment["RECORDER_TEST_COMPRESSION_DELAY_MS"],
              let milliseconds = Int64(text), (0...1000).contains(milliseconds) else { return 0 }
        return milliseconds * 1_000_000
    }

    /// The window from `RECORDER_PAGE_CACHE_WINDOW_MB` (a size in MiB, 8 to 65536, or `all` to leave the
    /// cache to the kernel, for side-by-side benchmarks); anything else, or unset: the default.
    public static var pageCacheWindowFromEnvironment: Int64? {
        guard let text = ProcessInfo.processInfo.environment["RECORDER_PAGE_CACHE_WINDOW_MB"] else { return WriteBehind.defaultWindowBytes }
        if text == "all" { return nil }
        guard let megabytes = Int64(text), (8...65_536).contains(megabytes) else { return WriteBehind.defaultWindowBytes }
        return megabytes << 20
    }

    /// Dyadic: on a panning 1080p game 0.40x the bytes of last-keyframe, with any frame decoding from at
    /// most 1 + log2(keyframe interval) chunks (6 at the default 60); BENCHMARKS.md, issue 16.
    public static let defaultReferencePolicy = ReferencePolicy.dyadic
    public static let defaultReservedFreeBytes: Int64 = 1 << 20
    /// Two: a whole 1080p frame takes ~15 ms of zstd, so one thread has no room left at 60 FPS.
    public static let defaultCompressionThreads = 2

    public init(
        path: String, options: SessionOptions, geometry: FrameGeometry, stateFields: [StateField],
        stateAttributes: [String: String], inputAttributes: [String: String], rootAttributes: [String: String],
        sessionStartNs: Int64, monoToUTCNs: Int64,
        referencePolicy: ReferencePolicy = WriterConfiguration.defaultReferencePolicy,
        reservedFreeBytes: Int64 = WriterConfiguration.defaultReservedFreeBytes,
        compressionThreads: Int = WriterConfiguration.defaultCompressionThreads,
        diskBudget: DiskBudget? = nil,
        testCompressionDelayNs: Int64 = WriterConfiguration.testCompressionDelayFromEnvironment,
        pageCacheWindowBytes: Int64? = WriterConfiguration.pageCacheWindowFromEnvironment
    ) {
        self.path = path
        self.options = options
        self.geometry = geometry
        self.stateFields = stateFields
        self.stateAttributes = stateAttributes
        self.inputAttributes = inputAttributes
        self.rootAttributes = rootAttributes
        self.sessionStartNs = sessionStartNs
        self.monoToUTCNs = monoToUTCNs
        self.referencePolicy = referencePolicy
        self.reservedFreeBytes = reservedFreeBytes
        self.compressionThreads = compressionThreads
        self.diskBudget = diskBudget
        self.testCompressionDelayNs = testCompressionDelayNs
        self.pageCacheWindowBytes = pageCacheWindowBytes
    }
}

/// How a writer ended, for the orchestrator's summary.
public struct WriterResult: Sendable, Codable, Equatable {
    public var path: String
    public var endReason: EndReason
    public var endDetail: String?
    /// True when the file was sealed (closed, final attributes written).
    public var cleanShutdown: Bool
    public var framesWritten: Int64
    public var keyframesWritten: Int64
    public var storedFrameBytes: Int64
    public var rawFrameBytes: Int64
    public var inputEventsWritten: Int64
    public var stateSamplesWritten: Int64
    public var fileBytes: Int64
    /// Time per frame from conversion to append (convert, XOR, wait for and compress, write), median and 99th percentile.
    public var frameWriteP50Ns: Int64
    public var frameWriteP99Ns: Int64
    /// Set when the session ended on a storage failure.
    public var error: String?

    public init(
        path: String, endReason: EndReason, endDetail: String? = nil, cleanShutdown: Bool, framesWritten: Int64 = 0,
        keyframesWritten: Int64 = 0, storedFrameBytes: Int64 = 0, rawFrameBytes: Int64 = 0, inputEventsWritten: Int64 = 0,
        stateSamplesWritten: Int64 = 0, fileBytes: Int64 = 0, frameWriteP50Ns: Int64 = 0, frameWriteP99Ns: Int64 = 0,
        error: String? = nil
    ) {
        self.path = path
        self.endReason = endReason
        self.endDetail = endDetail
        self.cleanShutdown = cleanShutdown
        self.framesWritten = framesWritten
        self.keyframesWritten = keyframesWritten
        self.storedFrameBytes = storedFrameBytes
        self.rawFrameBytes = rawFrameBytes
        self.inputEventsWritten = inputEventsWritten
        self.stateSamplesWritten = stateSamplesWritten
        self.fileBytes = fileBytes
        self.frameWriteP50Ns = frameWriteP50Ns
        self.frameWriteP99Ns = frameWriteP99Ns
        self.error = error
    }
}
