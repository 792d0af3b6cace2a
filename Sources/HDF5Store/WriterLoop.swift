import CHDF5Shim
import Foundation
import FrameCodec
import Logging
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// The writer thread's private state: the open file, the frame encoder and the flush clock.
/// Created and used only on the writer thread, so nothing here is shared.
final class WriterLoop {
    let configuration: WriterConfiguration
    let control: SessionControl
    let statistics: SessionStatistics
    let channels: SessionChannels
    let logger: Logger
    /// Where part events go (split sessions only); read by the part keeper, never waited on.
    let partEvents: BoundedMailbox<PartEvent>?
    /// True once capture, input and state have exited (nothing more will arrive).
    private let producersHaveFinished: () -> Bool
    /// The writer's own notes go straight into /log/notes (while it is still writable) and the log.
    lazy var notes = NoteSink(source: "writer", logger: logger) { [unowned self] note in
        guard !writesStopped else { return }
        try? file.appendNote(note)
    }
    /// The file being written: the session file, or the current part of a split session.
    var file: SessionFile
    let encoder: FrameEncoder
    private let pool: CompressionPool
    /// Frames between `prepare` and their append, oldest first: a fixed ring, no allocation per frame.
    private var pipeline: [PendingFrame]
    private var pipelineHead = 0
    private var pipelineTail = 0
    /// Pool sequence numbers: submitted so far, and appended so far (whose jobs may be reused).
    private var framesSubmitted = 0
    private var framesAppended = 0
    var failure: (reason: EndReason, detail: String)?
    /// True once nothing more may be written (write error); draining continues.
    var writesStopped = false
    private var nextFlushNs: Int64
    private var framesAtLastFlush: Int64 = 0
    private var lastFlushNs: Int64
    /// Session totals (every part); a part's summary subtracts the totals at its start (`PartState.base`).
    var keyframes: Int64 = 0
    /// Frames whose chunk took a degraded effort because the compressors were behind.
    var framesFast: Int64 = 0
    var framesUnfiltered: Int64 = 0
    /// Of those unfiltered, frames the writer took from a compressor that was behind (`captureIsBackingUp`).
    var framesTakenOver: Int64 = 0
    var storedBytes: Int64 = 0
    var eventsWritten: Int64 = 0
    var samplesWritten: Int64 = 0
    var firstTimestamp: Int64?
    var lastTimestamp: Int64 = 0
    var mismatchedFrames: Int64 = 0
    /// Frames in the parts before the current one (0 without splitting).
    var framesInEarlierParts: Int64 = 0
    /// Split sessions only: the part being written, the one prepared ahead, the input state to repeat.
    var parts: PartState?
    /// Drops the current file's written bytes from the page cache behind the writer; nil when the
    /// configuration leaves the cache to the kernel, or the thread could not start.
    let writeBehind: WriteBehind?
    /// Time from `prepare` to append per frame, the last `timings.count` frames (ring).
    private var timings: [Int64]
    private var timingCount = 0

    /// Frames prepared but not yet appended, at most (identical frames need no job, so this exceeds
    /// the pool's jobs); a power of two.
    static let pipelineCapacity = 64

    /// A frame prepared and waiting for its chunk.
    struct PendingFrame {
        var frame = CapturedFrame(pixels: UnsafeRawPointer(bitPattern: 1)!, slot: -1, width: 0, height: 0, bytesPerLine: 0,
                                  tick: 0, timestampNs: 0, cursorX: 0, cursorY: 0, originX: 0, originY: 0, flags: 0)
        var plan = FrameEncoder.Plan(reference: -1, isIdentical: false)
        /// The pool sequence number, or -1 for an identical frame (no job).
        var sequence = -1
        var startNs: Int64 = 0
        /// The first frame of the next part: prepared as a keyframe against a restarted encoder, so the
        /// current part is sealed and the next one opened right before it is appended.
        var startsPart = false
    }

    deinit { pool.stop() }

    init(configuration: WriterConfiguration, control: SessionControl, statistics: SessionStatistics, channels: SessionChannels,
         partEvents: BoundedMailbox<PartEvent>? = nil, logger: Logger, producersHaveFinished: @escaping () -> Bool) throws(RecorderErrorBox) {
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.channels = channels
        self.partEvents = partEvents
        self.logger = logger
        self.producersHaveFinished = producersHaveFinished
        if let split = configuration.parts {
            parts = PartState(configuration: configuration, split: split, statistics: statistics.snapshot())
            file = try SessionFile(configuration: configuration, path: SessionManifest.partPath(output: configuration.path, number: 1),
                                   part: .init(sessionID: split.sessionID, number: 1))
        } else {
            file = try SessionFile(configuration: configuration)
        }
        do {
            encoder = try FrameEncoder(
                width: configuration.geometry.width, height: configuration.geometry.height,
                codec: configuration.options.codec, level: configuration.options.compressionLevel,
                keyframeInterval: configuration.options.keyframeInterval, policy: configuration.referencePolicy,
                motionReference: configuration.options.usesMotionReference)
            pool = try CompressionPool(
                threadCount: configuration.compressionThreads, frameBytes: configuration.geometry.width * configuration.geometry.height * 3,
                codec: configuration.options.codec, level: configuration.options.compressionLevel,
                finishedBell: channels.doorbell, logger: logger,
                bestDelayNs: configuration.testCompressionDelayNs)
        } catch {
            file.closeQuietly()
            unlink(file.path)
            throw RecorderErrorBox(message: error.description, errno: 0)
        }
        if let window = configuration.pageCacheWindowBytes {
            do {
                writeBehind = try WriteBehind(windowBytes: window, notes: channels.notes, logger: logger)
            } catch {
                logger.warning("the session's pages stay cached: \(error)")
                writeBehind = nil
            }
        } else {
            writeBehind = nil
        }
        writeBehind?.follow(descriptor: file.pinned.descriptor)
        pipeline = [PendingFrame](repeating: PendingFrame(), count: WriterLoop.pipelineCapacity)
        timings = [Int64](repeating: 0, count: 1 << 14)
        lastFlushNs = MonotonicClock.now()
        nextFlushNs = lastFlushNs + SessionWriter.flushIntervalNs
        if parts != nil { partOpened() }
    }

    /// Frames stored in every part so far.
    var framesTotal: Int64 { framesInEarlierParts + file.framesWritten }

    /// The main loop: drain, write, flush once a second, sleep on the shared doorbell when idle.
    func drainUntilProducersFinish() {
        let doorbell = channels.doorbell
        while true {
            let seen = doorbell.sequence
            // Read before draining: once producers are done, an empty drain means nothing can arrive.
            let finished = producersHaveFinished()
            var worked = drainFrames(limit: 16)
            worked = drainEvents() || worked
            worked = drainMailboxes() || worked
            if !writesStopped {
                do { try file.writePending() } catch { fail(error) }
            }
            statistics.writerHeartbeat.bump()
            let now = MonotonicClock.now()
            if now >= nextFlushNs { flush(now: now) }
            if finished && !worked && pipelineHead == pipelineTail { break }
            if !worked && !finished && parts != nil { prepareNextPartIfNeeded() }
            if !worked {
                doorbell.wait(seen: seen, timeoutNanoseconds: max(1_000_000, min(100_000_000, nextFlushNs - now)))
            }
        }
    }

    // MARK: Draining

    /// Appends the frames whose chunks are ready, then prepares up to `limit` new ones while jobs are free.
    private func drainFrames(limit: Int) -> Bool {
        var worked = appendFinishedFrames()
        var count = 0
        while count < limit, pipelineTail - pipelineHead < WriterLoop.pipelineCapacity,
              framesSubmitted - framesAppended < pool.jobCount,
              let frame = channels.frames.filled.tryPop() {
            count += 1
            prepare(frame)
            worked = appendFinishedFrames() || true
        }
        return worked
    }

    /// Converts the frame out of its capture slot (and gives the slot back), then queues it for compression.
    private func prepare(_ frame: CapturedFrame) {
        let geometry = configuration.geometry
        guard !writesStopped else {
            channels.frames.released.tryPush(frame.slot)
            return
        }
        guard Int(frame.width) == geometry.width, Int(frame.height) == geometry.height,
              Int(frame.bytesPerLine) >= geometry.width * 4 else {
            channels.frames.released.tryPush(frame.slot)
            mismatchedFrames += 1
            if mismatchedFrames == 1 {
                notes.post("frame-skipped", "frame of \(frame.width)x\(frame.height) does not match the session's \(geometry.width)x\(geometry.height); skipped")
            }
            return
        }
        let start = MonotonicClock.now()
        let startsPart = parts != nil && partBoundaryDue(tick: frame.tick)
        if startsPart { encoder.restart() }
        let sequence = framesSubmitted
        let job = pool.job(for: sequence)
        let plan = encoder.prepare(pixels: frame.pixels, bytesPerLine: Int(frame.bytesPerLine), into: job.input)
        // The pixels are converted: capture may grab into the slot while the frame is compressed.
        channels.frames.released.tryPush(frame.slot)
        var pending = PendingFrame(frame: frame, plan: plan, sequence: -1, startNs: start, startsPart: startsPart)
        if !plan.isIdentical {
            pool.submit(sequence)
            framesSubmitted += 1
            pending.sequence = sequence
        }
        pipeline[pipelineTail & (WriterLoop.pipelineCapacity - 1)] = pending
        pipelineTail += 1
    }

    /// Every job holds a frame and capture has half its slots waiting: a compressor starved of CPU would
    /// soon cost ticks, so the writer stores the oldest frame's prepared bytes unfiltered itself.
    private var captureIsBackingUp: Bool {
        framesSubmitted - framesAppended >= pool.jobCount && channels.frames.filled.count >= max(1, channels.frames.filled.capacity / 2)
    }

    /// Appends, in order, every frame at the head of the pipeline whose chunk is ready (or that the
    /// writer takes over from a compressor that is behind).
    private func appendFinishedFrames() -> Bool {
        var worked = false
        while pipelineHead < pipelineTail {
            let pending = pipeline[pipelineHead & (WriterLoop.pipelineCapacity - 1)]
            if pending.sequence >= 0 {
                let chunk: (bytes: UnsafeRawPointer, size: Int, effort: CompressionEffort)
                if pool.isFinished(pending.sequence) {
                    let job = pool.job(for: pending.sequence)
                    chunk = (job.chunk, job.chunkSize, job.effort)
                } else if captureIsBackingUp, let taken = pool.takeOver(pending.sequence) {
                    chunk = (taken.bytes, taken.count, .unfiltered)
                    framesTakenOver += 1
                } else {
                    break
                }
                if pending.startsPart { rollOver(firstTick: pending.frame.tick) }
                if chunk.size > 0 {
                    append(pending, FrameEncoder.Encoded(bytes: chunk.bytes, size: chunk.size,
                                                         reference: pending.plan.reference, isIdentical: false,
                                                         shift: pending.plan.shift), effort: chunk.effort)
                } else {
                    fail(RecorderErrorBox(message: "\(encoder.codec.rawValue) failed to encode frame \(framesTotal)", errno: 0))
                }
                // The chunk is written (or dropped): the job may carry a new frame.
                framesAppended = pending.sequence + 1
            } else {
                if pending.startsPart { rollOver(firstTick: pending.frame.tick) }
                append(pending, encoder.identicalChunk(reference: pending.plan.reference, shift: pending.plan.shift))
            }
            pipelineHead += 1
            worked = true
        }
        return worked
    }

    func append(_ pending: PendingFrame, _ encoded: FrameEncoder.Encoded, effort: CompressionEffort = .best) {
        guard !writesStopped else { return }
        let frame = pending.frame
        if let message = diskRefusal(nextBytes: Int64(encoded.size)) {
            notes.post("disk-full", message)
            fail(RecorderErrorBox(message: message, errno: ENOSPC), fileStillHealthy: true)
            return
        }
        do {
            try file.appendFrame(frame, encoded, effort: effort)
        } catch {
            fail(error)
            return
        }
                statistics.framesWritten.bump()
        statistics.rawFrameBytes.bump(Int64(encoder.rawFrameBytes))
        statistics.storedFrameBytes.bump(Int64(encoded.size))
        storedBytes += Int64(encoded.size)
        switch effort {
        case .best: break
        case .fast: framesFast += 1
        case .unfiltered: framesUnfiltered += 1
        }
        if encoded.reference < 0 {
            keyframes += 1
            statistics.keyframesWritten.bump()
        }
        if firstTimestamp == nil { firstTimestamp = frame.timestampNs }
        lastTimestamp = frame.timestampNs
        if parts != nil { partAppended(frame) }
        timings[timingCount & (timings.count - 1)] = MonotonicClock.now() - pending.startNs
        timingCount += 1
    }

    private func drainEvents() -> Bool {
        var count: Int64 = 0
        while let event = channels.events.tryPop() {
            count += 1
            guard !writesStopped else { continue }
            do { try file.appendEvent(event) } catch { fail(error) }
            parts?.input.apply(event)
        }
        if count > 0 && !writesStopped {
            eventsWritten += count
            statistics.inputEventsWritten.bump(count)
        }
        return count > 0
    }

    private func drainMailboxes() -> Bool {
        var worked = false
        let newDevices = channels.devices.drain()
        let newSamples = channels.samples.drain()
        let newWindows = channels.windows.drain()
        let newNotes = channels.notes.drain()
        worked = !(newDevices.isEmpty && newSamples.isEmpty && newWindows.isEmpty && newNotes.isEmpty)
        guard !writesStopped else { return worked }
        do {
            for device in newDevices {
                try file.appendDevice(device)
                parts?.input.remember(device)
            }
            for sample in newSamples { try file.appendSample(sample) }
            for window in newWindows { try file.appendWindow(window) }
            for note in newNotes { try file.appendNote(note) }
        } catch {
            fail(error)
            return worked
        }
        if !newSamples.isEmpty {
            samplesWritten += Int64(newSamples.count)
            statistics.stateSamplesWritten.bump(Int64(newSamples.count))
        }
        return worked
    }

    // MARK: Flushing and failures

    private func flush(now: Int64) {
        nextFlushNs = now + SessionWriter.flushIntervalNs
        let written = framesTotal
        let elapsed = max(1, now - lastFlushNs)
        statistics.framesLastSecond.store((written - framesAtLastFlush) * 1_000_000_000 / elapsed, ordering: .relaxed)
        framesAtLastFlush = written
        lastFlushNs = now
        guard !writesStopped else { return }
        do { try file.flush() } catch { fail(error) }
        statistics.fileBytes.store(file.fileBytes, ordering: .relaxed)
    }

    /// Ends the session on a storage failure; draining continues so producers never stall.
    /// - Parameter fileStillHealthy: true when nothing failed yet (the free-space check), so the file is
    ///   closed normally; false after an HDF5 error, when the file is repaired like a crashed one.
    func fail(_ error: RecorderErrorBox, fileStillHealthy: Bool = false) {
        guard failure == nil else { return }
        let reason: EndReason = error.isDiskFull ? .diskFull : .error
        failure = (reason, error.message)
        logger.error("writer stops writing \(file.path): \(error.message)")
        control.requestStop(reason, detail: error.message)
        writesStopped = true
        if !fileStillHealthy { fileHealthy = false }
    }
    var fileHealthy = true

    /// Why the next `nextBytes` may not be written (the reserve, `min_free`, `quota`), or nil.
    private func diskRefusal(nextBytes: Int64) -> String? {
        let free = freeBytes()
        if let free, free < nextBytes + configuration.reservedFreeBytes {
            return "disk full: \(free) bytes free on the file system of \(file.path), keeping \(configuration.reservedFreeBytes) in reserve; session ended"
        }
        if let budget = configuration.diskBudget,
           let reason = budget.refusal(freeBytes: free, activeFileBytes: file.fileBytes, nextBytes: nextBytes) {
            return "disk full: \(reason); session ended"
        }
        return nil
    }

    private func freeBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(file.path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    // MARK: Sealing

    /// Flushes, closes and seals the file (the last part of a split session); returns what the orchestrator reports.
    func finish() -> WriterResult {
        pool.stop()
        writeBehind?.stop()
        parts?.next?.discard()
        parts?.next = nil
        let path = file.path
        let ended = failure ?? control.endReason.map { ($0.reason, $0.detail ?? "") } ?? (.stopped, "")
        let percentiles = framePercentiles()
        let summary = summaryJSON(p50: percentiles.p50, p99: percentiles.p99)
        let outcome = seal(file, reason: ended.0, detail: ended.1, summary: summary, healthy: fileHealthy, partFinal: parts != nil ? true : nil)
        let errorText = failure?.detail ?? outcome.error
        let bytes = file.fileBytes
        statistics.fileBytes.store(bytes, ordering: .relaxed)
        logger.info("closed \(path): \(file.framesWritten) frames, \(bytes) bytes, end \(ended.0.rawValue)")
        if parts != nil {
            partSealed(state: outcome.sealed ? "sealed" : "recovered")
            _ = partEvents?.trySend(.ended(reason: ended.0, detail: ended.1.isEmpty ? nil : ended.1, cleanShutdown: outcome.sealed))
        }
        return WriterResult(
            path: path, endReason: ended.0, endDetail: ended.1.isEmpty ? nil : ended.1, cleanShutdown: outcome.sealed,
            framesWritten: framesTotal, keyframesWritten: keyframes, storedFrameBytes: storedBytes,
            rawFrameBytes: framesTotal * Int64(encoder.rawFrameBytes), inputEventsWritten: eventsWritten,
            stateSamplesWritten: samplesWritten, fileBytes: bytes, frameWriteP50Ns: percentiles.p50,
            frameWriteP99Ns: percentiles.p99, error: errorText)
    }

    /// Closes `target` and writes its final attributes; a file the library could not close cleanly
    /// (write error) is repaired as recovery would. Returns whether it was sealed, and the first error.
    func seal(_ target: SessionFile, reason: EndReason, detail: String, summary: String, healthy: Bool,
              partFinal: Bool?) -> (sealed: Bool, error: String?) {
        var healthy = healthy
        var errorText: String?
        if healthy {
            do { try target.flush() } catch { healthy = false; errorText = error.message }
        }
        if healthy {
            do { try target.close() } catch { healthy = false; errorText = errorText ?? error.message }
        } else {
            target.closeQuietly()
        }
        var sealed = false
        if healthy {
            do {
                try SessionFile.seal(target.pinned, endReason: reason, detail: detail, cleanShutdown: true, summaryJSON: summary,
                                     partFinal: partFinal)
                sealed = true
            } catch {
                errorText = errorText ?? error.message
            }
        }
        if !sealed {
            do {
                _ = try SessionRecovery.repair(target.pinned, endReason: reason, detail: detail, summaryJSON: summary)
            } catch {
                logger.error("cannot repair \(target.path) after a write error: \(error)")
            }
        }
        return (sealed, errorText)
    }

    private func framePercentiles() -> (p50: Int64, p99: Int64) {
        let n = min(timingCount, timings.count)
        guard n > 0 else { return (0, 0) }
        let sorted = timings[0..<n].sorted()
        return (sorted[n / 2], sorted[min(n - 1, n * 99 / 100)])
    }

    /// The writer's counters for `summary_json`: the whole session, or the current part of a split
    /// session (totals minus those at the part's start).
    func summaryJSON(p50: Int64, p99: Int64) -> String {
        let s = statistics.snapshot()
        let base = parts?.base ?? PartBase(statistics: SessionStatistics().snapshot())
        let first = parts.map { $0.firstTimestamp } ?? firstTimestamp
        let last = parts.map { $0.lastTimestamp } ?? lastTimestamp
        var summary: [String: Int64] = [
            "frames": file.framesWritten, "keyframes": keyframes - base.keyframes, "frames_captured": s.framesCaptured - base.statistics.framesCaptured,
            "frames_dropped": s.framesDropped - base.statistics.framesDropped, "ticks_missed": s.ticksMissed - base.statistics.ticksMissed,
            "grab_failures": s.grabFailures - base.statistics.grabFailures,
            "stored_frame_bytes": storedBytes - base.storedBytes, "raw_frame_bytes": file.framesWritten * Int64(encoder.rawFrameBytes),
            "input_events": eventsWritten - base.events, "input_dropped": s.inputDropped - base.statistics.inputDropped,
            "input_syn_dropped": s.inputSynDropped - base.statistics.inputSynDropped,
            "input_devices": file.devices.totalRows, "state_samples": samplesWritten - base.samples,
            "state_dropped": s.stateDropped - base.statistics.stateDropped,
            "x_errors": s.xErrors - base.statistics.xErrors, "frames_skipped": mismatchedFrames - base.skipped,
            "frames_fast": framesFast - base.fast, "frames_unfiltered": framesUnfiltered - base.unfiltered,
            "frames_taken_over": framesTakenOver - base.takenOver,
            "duration_ns": first.map { last - $0 } ?? 0,
            "writer_frame_ns_p50": p50, "writer_frame_ns_p99": p99,
        ]
        if let parts {
            summary["part_number"] = Int64(parts.number)
            summary["rollover_ns"] = parts.lastRolloverNs
            summary["rollover_ns_max"] = parts.rolloverMaxNs
        }
        return SessionFile.json(summary)
    }
}
