import Capture
import Foundation
import Logging
import RecorderCore

/// Drives one CaptureWorker on its NamedThread the way the orchestrator does, with the test as the writer.
final class CaptureHarness {
    let control = SessionControl()
    let statistics = SessionStatistics()
    let notes = BoundedMailbox<SessionNote>(capacity: 256)
    let channel: FrameChannel
    let worker: CaptureWorker
    let barrier = StartupBarrier(workers: [CaptureWorker.threadName])
    let thread: NamedThread
    private(set) var startNs: Int64 = 0
    let fps: Int

    init(_ configuration: CaptureConfiguration) throws {
        fps = configuration.fps
        channel = FrameChannel(slotCount: configuration.slotCount, doorbell: Doorbell())
        worker = CaptureWorker(configuration: configuration, control: control, statistics: statistics,
                               frames: channel, notes: notes, logger: Logger(label: "test-capture"))
        let worker = self.worker
        let barrier = self.barrier
        thread = try NamedThread.spawn(name: CaptureWorker.threadName) { worker.run(startup: barrier) }
    }

    /// Waits for the worker to be ready and starts the schedule now.
    func start() -> StartupBarrier.Outcome {
        let outcome = barrier.wait(timeoutNanoseconds: 10_000_000_000)
        if outcome == .ready {
            startNs = MonotonicClock.now()
            control.begin(at: startNs)
        }
        return outcome
    }

    /// Frames handed back by `stop()` without being inspected.
    private(set) var drainedAtStop = 0

    /// Pops frames for `seconds`, calling `inspect` on each, then hands the slot back (unless `release` is false).
    func consume(seconds: Double, release: Bool = true, _ inspect: (CapturedFrame) -> Void = { _ in }) {
        consume(seconds: seconds, release: release, until: { false }, inspect)
    }

    /// `consume(seconds:_:)` that also compares every frame with `expected`; returns how many frames came
    /// and how many of them differed from it.
    func consume(seconds: Double, comparingWith expected: TestImage,
                 _ inspect: (CapturedFrame) -> Void = { _ in }) -> (frames: Int, mismatches: Int) {
        var frames = 0
        var mismatches = 0
        consume(seconds: seconds) { frame in
            frames += 1
            if !frame.equals(expected) { mismatches += 1 }
            inspect(frame)
        }
        return (frames, mismatches)
    }

    /// `consume(seconds:release:_:)` that ends early once `enough()` holds. Tests that need N frames
    /// pass a generous `seconds`: a loaded machine delivers late, never less.
    func consume(seconds: Double, release: Bool = true, until enough: () -> Bool,
                 _ inspect: (CapturedFrame) -> Void = { _ in }) {
        let deadline = MonotonicClock.now() + Int64(seconds * 1e9)
        while MonotonicClock.now() < deadline && !enough() {
            guard let frame = channel.filled.pop(timeoutNanoseconds: 50_000_000) else { continue }
            inspect(frame)
            if release { _ = channel.released.tryPush(frame.slot) }
        }
    }

    func deadline(of tick: Int64) -> Int64 { startNs + tick * 1_000_000_000 / Int64(fps) }

    /// Ticks of the schedule the worker has accounted for: captured, dropped for want of a slot,
    /// skipped after an overrun, or failed.
    var accountedTicks: Int64 {
        statistics.framesCaptured.load(ordering: .relaxed) + statistics.framesDropped.load(ordering: .relaxed)
            + statistics.ticksMissed.load(ordering: .relaxed) + statistics.grabFailures.load(ordering: .relaxed)
    }

    /// Asks the worker to stop, waits for its thread and hands back (and counts) the frames nobody inspected.
    @discardableResult
    func stop() -> Bool {
        control.requestStop(.stopped)
        drain()
        let joined = thread.join(timeoutNanoseconds: 10_000_000_000)
        drain()
        return joined
    }

    private func drain() {
        while let frame = channel.filled.tryPop() {
            drainedAtStop += 1
            _ = channel.released.tryPush(frame.slot)
        }
    }

    /// Every note the worker sent so far.
    func drainNotes() -> [SessionNote] { notes.drain() }
}
