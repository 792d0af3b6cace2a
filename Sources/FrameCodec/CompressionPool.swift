import CLinuxShim
import Logging
import RecorderCore
import Synchronization

/// Compresses prepared frames on a few named threads at once and hands the chunks back in frame order.
///
/// A whole 1080p frame costs ~15 ms of zstd, close to the 16.7 ms between frames at 60 FPS: one thread
/// cannot keep up while the whole screen scrolls. Frame `n` goes to thread `n % threadCount`, so each
/// thread takes its frames in order and the writer appends them in order without sorting. When frames
/// back up, a `CompressionGovernor` makes the compressors spend less per frame rather than let capture
/// run out of slots (see docs/FORMAT.md, "Falling behind").
package final class CompressionPool: Sendable {
    package static let threadNamePrefix = "rec-compress-"
    /// How long a compressor may take to stop once asked.
    package static let joinTimeoutNs: Int64 = 2_000_000_000

    package let threadCount: Int
    /// Frames in flight at most (a power of two).
    package let jobCount: Int
    private let jobs: [CompressionJob]
    private let mask: Int
    /// Frames submitted so far; a compressor takes frame `n` once this passes `n`.
    private let submittedCount = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let workBell = Doorbell()
    /// Rung after each finished frame: the writer's doorbell.
    private let finishedBell: Doorbell
    private let threads = Mutex<[NamedThread]>([])
    private let logger: Logger
    /// nil for `--codec none`: its chunks are the bytes as they are at any effort.
    private let governor: CompressionGovernor?
    /// Test-only: extra time each `best` compression takes, to force the pipeline behind.
    private let bestDelayNs: Int64
    /// Input buffers taken out of jobs the writer took over while a compressor was reading them, each
    /// free again once that compressor finished that frame (the writer's thread only; at most one per thread).
    private let spareInputs = Mutex<[SpareInput]>([])
    private let frameBytes: Int

    /// An input buffer out of service until `job` has finished frame `sequence`.
    private struct SpareInput {
        // Sendable: the buffer is only touched by the writer once its compressor finished with it.
        nonisolated(unsafe) var buffer: UnsafeMutablePointer<UInt8>
        var job: Int
        var sequence: Int
    }

    /// Starts the compressor threads and waits until each has its codec.
    /// - Parameter bestDelayNs: test-only; each compression at `best` takes at least this long longer.
    package init(threadCount: Int, frameBytes: Int, codec: SessionOptions.Codec, level: Int, finishedBell: Doorbell, logger: Logger,
                 bestDelayNs: Int64 = 0) throws(RecorderError) {
        self.threadCount = max(1, threadCount)
        // Four frames per thread: with the 8 capture slots, ~270 ms of backlog at 60 FPS before capture
        // drops, enough to ride out a burst of whole frames while the game takes the cores.
        var jobCount = 1
        while jobCount < 4 * self.threadCount { jobCount <<= 1 }
        self.jobCount = jobCount
        mask = jobCount - 1
        let outputCapacity = try ChunkCodec(codec: codec, level: level).bound(frameBytes)
        jobs = (0..<jobCount).map { _ in CompressionJob(inputCapacity: frameBytes, outputCapacity: outputCapacity) }
        self.finishedBell = finishedBell
        self.logger = logger
        governor = codec == .none ? nil : CompressionGovernor(jobCount: jobCount)
        self.bestDelayNs = max(0, bestDelayNs)
        self.frameBytes = frameBytes
        let names = (0..<self.threadCount).map { "\(Self.threadNamePrefix)\($0)" }
        let startup = StartupBarrier(workers: names)
        for (first, name) in names.enumerated() {
            do {
                let thread = try NamedThread.spawn(name: name) { [self] in
                    compressFrames(from: first, name: name, codec: codec, level: level, startup: startup)
                }
                threads.withLock { $0.append(thread) }
            } catch {
                stop()
                throw error
            }
        }
        switch startup.wait(timeoutNanoseconds: 5_000_000_000) {
        case .ready: break
        case .failed(let worker, let message):
            stop()
            throw .storage("\(worker): \(message)")
        case .timedOut(let waiting):
            stop()
            throw .storage("compressor threads did not start: \(waiting.joined(separator: ", "))")
        }
    }

    /// The job that carries frame `sequence`; the writer may fill it once frame `sequence - jobCount` is appended.
    package func job(for sequence: Int) -> CompressionJob { jobs[sequence & mask] }

    /// Publishes frame `sequence` (its job filled); sequences are submitted one by one from 0.
    package func submit(_ sequence: Int) {
        submittedCount.store(sequence + 1, ordering: .releasing)
        workBell.ring()
    }

    /// True once frame `sequence`'s chunk is in its job (`chunk`).
    package func isFinished(_ sequence: Int) -> Bool {
        jobs[sequence & mask].finishedSequence.load(ordering: .acquiring) == sequence
    }

    /// Takes frame `sequence` (submitted, its chunk not finished) away from the compressors so the writer
    /// can store its prepared bytes unfiltered at once: the returned bytes stay valid until the writer
    /// fills this job again. When a compressor is already reading them (starved of CPU, it would hold every
    /// frame behind it), the job gets a spare input buffer and the compressor's late chunk is ignored;
    /// nil when no spare is free yet (at most one per thread).
    package func takeOver(_ sequence: Int) -> (bytes: UnsafeRawPointer, count: Int)? {
        let job = jobs[sequence & mask]
        let bytes = UnsafeRawPointer(job.input), count = job.inputCount
        let previous = max(-1, sequence - jobCount)
        if job.claimedSequence.compareExchange(expected: previous, desired: sequence, successOrdering: .acquiringAndReleasing,
                                               failureOrdering: .acquiring).exchanged {
            return (bytes, count)
        }
        // A compressor claimed it after reading `input`: swap in a buffer no compressor reads.
        let swapped = spareInputs.withLock { spares -> Bool in
            // The compressor that claimed a spare's frame has read it once it finished that frame.
            let ready = spares.firstIndex { jobs[$0.job].finishedSequence.load(ordering: .acquiring) >= $0.sequence }
            let buffer: UnsafeMutablePointer<UInt8>
            if let ready {
                buffer = spares.remove(at: ready).buffer
            } else if spares.count < threadCount {
                buffer = .allocate(capacity: frameBytes + 64)
                buffer.initialize(repeating: 0, count: frameBytes + 64)
            } else {
                return false
            }
            spares.append(SpareInput(buffer: job.input, job: sequence & mask, sequence: sequence))
            job.input = buffer
            return true
        }
        return swapped ? (bytes, count) : nil
    }

    /// Asks every compressor to stop once nothing is left and joins them; safe to call twice.
    package func stop() {
        stopping.store(true, ordering: .releasing)
        workBell.ring()
        let running = threads.withLock { list -> [NamedThread] in defer { list = [] }; return list }
        var stuck = false
        for thread in running where !thread.join(timeoutNanoseconds: Self.joinTimeoutNs) {
            logger.error("\(thread.name) did not stop within \(Self.joinTimeoutNs / 1_000_000) ms")
            stuck = true
        }
        // A compressor that did not stop may still read a spare: leave those to the process's end.
        if !stuck { spareInputs.withLock { spares in for spare in spares { spare.buffer.deallocate() }; spares = [] } }
    }

    /// A compressor thread's body: frames `first`, `first + threadCount`, ... in order.
    private func compressFrames(from first: Int, name: String, codec: SessionOptions.Codec, level: Int, startup: StartupBarrier) {
        var scheduling = CompressorScheduling()
        logger.debug("\(name) runs \(scheduling.isIdle ? "in SCHED_IDLE while it keeps up" : "at nice \(CompressorScheduling.nice)")")
        let encoder: ChunkCodec
        let fastEncoder: ChunkCodec
        do {
            encoder = try ChunkCodec(codec: codec, level: level)
            fastEncoder = try ChunkCodec(codec: codec, level: CompressionGovernor.fastLevel(codec: codec, level: level))
        } catch {
            startup.fail(name, message: error.description)
            return
        }
        startup.arrive(name)
        var next = first
        while true {
            let seen = workBell.sequence
            if submittedCount.load(ordering: .acquiring) > next {
                let job = jobs[next & mask]
                // The pointer is read before claiming: once a compressor has claimed the frame, the writer
                // may give the job another input buffer. Its bytes are read only after a successful claim.
                let input = job.input, count = job.inputCount
                guard job.claimedSequence.compareExchange(expected: max(-1, next - jobCount), desired: next,
                                                          ordering: .acquiringAndReleasing).exchanged else {
                    next += threadCount // the writer took this frame over
                    continue
                }
                let backlog = submittedCount.load(ordering: .acquiring) - next - 1
                let effort = governor?.effort(backlog: backlog) ?? .best
                scheduling.follow(effort)
                switch effort {
                case .best:
                    if bestDelayNs > 0 { MonotonicClock.sleep(until: MonotonicClock.now() + bestDelayNs) }
                    job.chunkSize = encoder.encode(input, count: count, into: job.output, capacity: job.outputCapacity)
                case .fast:
                    job.chunkSize = fastEncoder.encode(input, count: count, into: job.output, capacity: job.outputCapacity)
                case .unfiltered:
                    job.chunkSize = count
                }
                job.effort = effort
                job.finishedSequence.store(next, ordering: .releasing)
                finishedBell.ring()
                next += threadCount
                continue
            }
            // The writer stops the pool only after every submitted frame came back.
            if stopping.load(ordering: .acquiring) { return }
            workBell.wait(seen: seen, timeoutNanoseconds: 100_000_000)
        }
    }
}
