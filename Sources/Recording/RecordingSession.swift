import Capture
import Foundation
import HDF5Store
import InputMonitor
import Logging
import RecorderCore
import StateExtractor
import Synchronization

/// One recording: starts the capture, input, state and writer threads, runs until told to stop, seals the file.
///
/// Used by `recorder record` in the foreground and by `recorderd` for each `start` request.
/// Start-up is two-phase: the producers open their displays and devices first (so the file layout
/// is known), then the writer creates the file; any failure before that leaves no file behind.
public final class RecordingSession: Sendable {
    public let options: SessionOptions
    let logger: Logger
    private let control = SessionControl()
    private let statistics = SessionStatistics()
    private let focusedWindow = FocusedWindow()
    private let channels = SessionChannels()
    private let capture: CaptureWorker
    private let input: InputWorker
    private let state: StateWorker
    private let running = Mutex<Running>(Running())

    /// How long a producer thread may take to stop before it is named in the log and left behind.
    public static let producerStopTimeout: Int64 = 3_000_000_000
    /// How long the writer may take to drain and seal after the producers stopped.
    public static let writerStopTimeout: Int64 = 60_000_000_000
    /// How long the part keeper may take to write the manifest (and let its extensions drain) after the writer.
    public static let partKeeperStopTimeout: Int64 = 15_000_000_000
    /// How long threads may take to open displays, devices and the file.
    public static let startupTimeout: Int64 = 15_000_000_000

    private struct Running {
        var phase = "created"
        var threads: [NamedThread] = []
        var writer: SessionWriter?
        var writerThread: NamedThread?
        var partKeeper: PartKeeper?
        var partKeeperThread: NamedThread?
        var startedAt: Int64 = 0
        var endedAt: Int64 = 0
        var geometry: FrameGeometry?
        var report: SessionReport?
    }

    /// Work that follows each sealed part of a split session (see `PartKeeper.Extension`).
    let partExtensions: [any PartKeeper.Extension]

    public init(options: SessionOptions, logger: Logger, partExtensions: [any PartKeeper.Extension] = []) {
        self.options = options
        self.partExtensions = partExtensions
        var logger = logger
        // Every line of the session's threads names its file, so a daemon's log tells sessions apart.
        logger[metadataKey: "session"] = .string(URL(fileURLWithPath: options.output).lastPathComponent)
        self.logger = logger
        capture = CaptureWorker(
            configuration: CaptureConfiguration(display: options.display, fps: options.fps, region: options.region, window: options.window),
            control: control, statistics: statistics, frames: channels.frames, notes: channels.notes, logger: logger)
        input = InputWorker(
            configuration: InputConfiguration(sources: options.inputs, redactKeys: options.redactKeys, focusFilter: options.inputFocus),
            control: control, statistics: statistics, events: channels.events, devices: channels.devices, notes: channels.notes,
            focusedWindow: focusedWindow, logger: logger)
        state = StateWorker(
            configuration: StateConfiguration(display: options.display, probesPath: options.stateConfig, rateHz: options.stateRate),
            control: control, statistics: statistics, samples: channels.samples, windows: channels.windows, notes: channels.notes,
            focusedWindow: focusedWindow, logger: logger)
    }

    /// Starts every thread and returns once frames are being recorded.
    /// - Throws: `RecorderError` with a message naming what failed (display, probe file, output file);
    ///   no file is left behind when the failure came before the writer created it.
    public func start() throws(RecorderError) {
        try options.validate()
        try checkOutputPath()
        running.withLock { $0.phase = "starting" }

        let producers = StartupBarrier(workers: [CaptureWorker.threadName, InputWorker.threadName, StateWorker.threadName])
        var threads: [NamedThread] = []
        do {
            threads.append(try NamedThread.spawn(name: CaptureWorker.threadName) { [capture] in capture.run(startup: producers) })
            threads.append(try NamedThread.spawn(name: InputWorker.threadName) { [input] in input.run(startup: producers) })
            threads.append(try NamedThread.spawn(name: StateWorker.threadName) { [state] in state.run(startup: producers) })
        } catch {
            abortStart(threads: threads, writerThread: nil)
            throw error
        }
        running.withLock { $0.threads = threads }
        if case let failure = producers.wait(timeoutNanoseconds: Self.startupTimeout), failure != .ready {
            abortStart(threads: threads, writerThread: nil)
            throw .failed(Self.describe(failure))
        }
        guard let geometry = capture.geometry, let schema = state.schema else {
            abortStart(threads: threads, writerThread: nil)
            throw .failed("capture or state thread arrived without publishing its layout")
        }

        // Tick 0 lies far enough ahead that the writer has created the file by then.
        let sessionStart = MonotonicClock.now() + 250_000_000
        var configuration = WriterConfiguration(
            path: options.output, options: options, geometry: geometry,
            stateFields: schema.fields, stateAttributes: schema.attributes,
            inputAttributes: ["sources": Self.json(options.inputs.map(\.description))],
            rootAttributes: ["options_json": Self.optionsJSON(options), "recorder_version": RecorderVersion.current],
            sessionStartNs: sessionStart, monoToUTCNs: MonotonicClock.monotonicToUTCOffset())
        var keeper: PartKeeper?
        if let split = options.split, split.splits {
            let started: PartKeeper
            do {
                started = try startPartKeeper(split: split, configuration: configuration)
            } catch {
                abortStart(threads: threads, writerThread: nil)
                throw error
            }
            configuration.parts = WriterConfiguration.Parts(sessionID: started.manifest.sessionID, policy: split)
            keeper = started
        }
        let writer = SessionWriter(
            configuration: configuration, control: control, statistics: statistics, channels: channels,
            partEvents: keeper?.mailbox, logger: logger)
        let writerReady = StartupBarrier(workers: [SessionWriter.threadName])
        let writerThread: NamedThread
        do {
            writerThread = try NamedThread.spawn(name: SessionWriter.threadName) { writer.run(startup: writerReady) }
        } catch {
            abortStart(threads: threads, writerThread: nil)
            throw error
        }
        if case let failure = writerReady.wait(timeoutNanoseconds: Self.startupTimeout), failure != .ready {
            abortStart(threads: threads, writerThread: writerThread)
            throw .storage(Self.describe(failure))
        }
        running.withLock {
            $0.writer = writer
            $0.writerThread = writerThread
            $0.geometry = geometry
            $0.startedAt = sessionStart
            $0.phase = "recording"
        }
        control.begin(at: max(sessionStart, MonotonicClock.now()))
        logger.info("recording", metadata: [
            "file": "\(options.output)", "size": "\(geometry.width)x\(geometry.height)", "fps": "\(options.fps)",
            "codec": "\(options.codec.rawValue)", "target": "\(geometry.target)",
        ])
    }

    /// Asks the session to end; `wait()` returns once the file is sealed. The first reason given wins.
    public func stop(_ reason: EndReason = .stopped, detail: String? = nil) {
        control.requestStop(reason, detail: detail)
    }

    /// True once a stop was requested (by a caller, the duration, or a thread that hit an error).
    public var isStopping: Bool { control.shouldStop }

    /// Blocks until the session ends (duration, stop, lost display, write error), then stops every
    /// thread, seals the file and returns the summary. Safe to call once.
    public func wait() -> SessionReport {
        if let duration = options.duration, let t0 = control.startedAt {
            let deadline = t0 + Int64(duration * 1e9)
            if control.sleep(until: deadline) { control.requestStop(.duration) }
        } else {
            while !control.shouldStop {
                let seen = control.bell.sequence
                if control.shouldStop { break }
                control.bell.wait(seen: seen, timeoutNanoseconds: 1_000_000_000)
            }
        }
        return finish()
    }

    /// Joins the producers, lets the writer drain and seal, and builds the final report.
    private func finish() -> SessionReport {
        running.withLock { $0.phase = "stopping" }
        let (threads, writer, writerThread) = running.withLock { ($0.threads, $0.writer, $0.writerThread) }
        var stuck: [String] = []
        for thread in threads where !thread.join(timeoutNanoseconds: Self.producerStopTimeout) {
            logger.error("thread did not stop in time; sealing the file without it", metadata: ["thread": "\(thread.name)"])
            stuck.append(thread.name)
        }
        writer?.producersFinished()
        if let writerThread, !writerThread.join(timeoutNanoseconds: Self.writerStopTimeout) {
            logger.error("writer did not finish sealing in time", metadata: ["thread": "\(writerThread.name)"])
            stuck.append(writerThread.name)
        }
        if let name = stopPartKeeper() { stuck.append(name) }
        let ended = MonotonicClock.now()
        running.withLock {
            $0.endedAt = ended
            $0.phase = "ended"
        }
        var report = makeReport(state: "ended")
        report.stuckThreads = stuck
        if let result = writer?.result {
            report.endReason = result.endReason.rawValue
            report.endDetail = result.endDetail
            report.cleanShutdown = result.cleanShutdown
            report.error = result.error
        }
        running.withLock { $0.report = report }
        logger.info("session ended", metadata: ["file": "\(options.output)", "reason": "\(report.endReason ?? "?")"])
        return report
    }

    /// The live status (or the final report once ended).
    public func status() -> SessionReport {
        if let report = running.withLock({ $0.report }) { return report }
        return makeReport(state: running.withLock { $0.phase })
    }

    private func makeReport(state phase: String) -> SessionReport {
        let (startedAt, endedAt, geometry) = running.withLock { ($0.startedAt, $0.endedAt, $0.geometry) }
        let counters = statistics.snapshot()
        let now = endedAt > 0 ? endedAt : MonotonicClock.now()
        let duration = startedAt > 0 ? max(0, Double(now - startedAt) / 1e9) : 0
        let reason = control.endReason
        let keeper = running.withLock { $0.partKeeper }
        let manifest = keeper?.manifest
        let folder = (options.output as NSString).deletingLastPathComponent
        let partFile = keeper?.currentPartFile.map { folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0) }
        var report = SessionReport(
            state: phase, file: partFile ?? options.output, durationSeconds: duration,
            endReason: phase == "ended" ? reason?.reason.rawValue ?? EndReason.stopped.rawValue : nil,
            endDetail: phase == "ended" ? reason?.detail : nil, cleanShutdown: nil,
            width: geometry?.width, height: geometry?.height, fps: options.fps, codec: options.codec.rawValue,
            fpsLastSecond: counters.framesLastSecond,
            compressionRatio: counters.storedFrameBytes > 0 ? Double(counters.rawFrameBytes) / Double(counters.storedFrameBytes) : nil,
            freeDiskBytes: Self.freeBytes(near: options.output),
            counters: counters, stuckThreads: [], error: nil)
        if let keeper, let manifest {
            report.manifest = keeper.path
            report.parts = manifest.parts.count
            report.part = manifest.parts.last?.number
        }
        return report
    }

    /// Heartbeats of every running thread, to tell a watchdog whether all of them are making progress.
    public func heartbeats() -> [String: Int64] {
        let c = statistics
        return [
            CaptureWorker.threadName: c.captureHeartbeat.load(ordering: .relaxed),
            InputWorker.threadName: c.inputHeartbeat.load(ordering: .relaxed),
            StateWorker.threadName: c.stateHeartbeat.load(ordering: .relaxed),
            SessionWriter.threadName: c.writerHeartbeat.load(ordering: .relaxed),
        ]
    }

    private func abortStart(threads: [NamedThread], writerThread: NamedThread?) {
        control.requestStop(.error)
        defer { _ = stopPartKeeper() }
        for thread in threads where !thread.join(timeoutNanoseconds: Self.producerStopTimeout) {
            logger.error("thread did not stop in time after a failed start", metadata: ["thread": "\(thread.name)"])
        }
        if let writerThread, !writerThread.join(timeoutNanoseconds: Self.producerStopTimeout) {
            logger.error("writer did not stop in time after a failed start")
        }
        running.withLock { $0.phase = "failed" }
    }

    /// Keeps the part keeper and its thread so `finish` and a failed start can stop them.
    func storePartKeeper(_ keeper: PartKeeper, thread: NamedThread) {
        running.withLock {
            $0.partKeeper = keeper
            $0.partKeeperThread = thread
        }
    }

    /// Stops `rec-parts` after the writer's last event; returns its name when it did not stop in time.
    func stopPartKeeper() -> String? {
        guard let (keeper, thread) = running.withLock({ running -> (PartKeeper, NamedThread)? in
            guard let keeper = running.partKeeper, let thread = running.partKeeperThread else { return nil }
            running.partKeeperThread = nil
            return (keeper, thread)
        }) else { return nil }
        keeper.requestStop()
        guard thread.join(timeoutNanoseconds: Self.partKeeperStopTimeout) else {
            logger.error("part keeper did not stop in time; the manifest may lag", metadata: ["thread": "\(thread.name)"])
            return thread.name
        }
        return nil
    }

    private func checkOutputPath() throws(RecorderError) {
        let url = URL(fileURLWithPath: options.output)
        var isDirectory: ObjCBool = false
        let parent = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .storage("output directory \(parent) does not exist")
        }
        if FileManager.default.fileExists(atPath: options.output) || (try? FileManager.default.destinationOfSymbolicLink(atPath: options.output)) != nil {
            throw .storage("output file \(options.output) already exists; recorder never overwrites a session")
        }
        if options.split?.splits == true, let existing = Self.existingSplitPaths(output: options.output).first {
            throw .storage("\(existing) already exists; recorder never overwrites a session")
        }
    }

    private static func describe(_ outcome: StartupBarrier.Outcome) -> String {
        switch outcome {
        case .ready: return "ready"
        case .failed(let worker, let message): return "\(worker): \(message)"
        case .timedOut(let waiting): return "start-up timed out waiting for \(waiting.joined(separator: ", "))"
        }
    }

    static func freeBytes(near path: String) -> Int64? {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory),
              let free = attributes[.systemFreeSize] as? NSNumber else { return nil }
        return free.int64Value
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static func optionsJSON(_ options: SessionOptions) -> String { json(options) }
}
