import CLinuxShim
import Logging
import RecorderCore
import Synchronization

/// Compresses prepared frames on a few named threads at once and hands the chunks back in frame order.
///
/// A whole 1080p frame costs ~15 ms of zstd, close to the 16.7 ms between frames at 60 FPS: one thread
/// cannot keep up while the whole screen scrolls. Frame `n` goes to thread `n % threadCount`, so each
/// thread takes its frames in order and the writer appends them in order without sorting.
package final class CompressionPool: Sendable {
    package static let threadNamePrefix = "rec-compress-"
    /// Compressors yield to the game, the X server and capture (nice -10): a frame waiting for its chunk
    /// costs nothing, a grab or a game frame delayed costs a tick.
    package static let threadNice: Int32 = 5
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

    /// Starts the compressor threads and waits until each has its codec.
    package init(threadCount: Int, frameBytes: Int, codec: SessionOptions.Codec, level: Int, finishedBell: Doorbell, logger: Logger) throws(RecorderError) {
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

    /// True once frame `sequence`'s chunk is in its job's `output`.
    package func isFinished(_ sequence: Int) -> Bool {
        jobs[sequence & mask].finishedSequence.load(ordering: .acquiring) == sequence
    }

    /// Asks every compressor to stop once nothing is left and joins them; safe to call twice.
    package func stop() {
        stopping.store(true, ordering: .releasing)
        workBell.ring()
        let running = threads.withLock { list -> [NamedThread] in defer { list = [] }; return list }
        for thread in running where !thread.join(timeoutNanoseconds: Self.joinTimeoutNs) {
            logger.error("\(thread.name) did not stop within \(Self.joinTimeoutNs / 1_000_000) ms")
        }
    }

    /// A compressor thread's body: frames `first`, `first + threadCount`, ... in order.
    private func compressFrames(from first: Int, name: String, codec: SessionOptions.Codec, level: Int, startup: StartupBarrier) {
        if CLinuxShim_set_thread_nice(Self.threadNice) != 0 { logger.debug("\(name) keeps its nice value") }
        let encoder: ChunkCodec
        do {
            encoder = try ChunkCodec(codec: codec, level: level)
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
                job.chunkSize = encoder.encode(job.input, count: job.inputCount, into: job.output, capacity: job.outputCapacity)
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
