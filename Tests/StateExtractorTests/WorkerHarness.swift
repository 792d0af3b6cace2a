import Foundation
import Logging
import RecorderCore
import StateExtractor
import TestSupport

/// Runs a StateWorker on a NamedThread the way the orchestrator does, and collects what it sends.
final class WorkerHarness {
    let control = SessionControl()
    let statistics = SessionStatistics()
    let samples: BoundedMailbox<StateSample>
    let windows = BoundedMailbox<WindowSnapshot>(capacity: 64)
    let notes = BoundedMailbox<SessionNote>(capacity: 64)
    let focusedWindow = FocusedWindow()
    let worker: StateWorker
    let barrier = StartupBarrier(workers: [StateWorker.threadName])
    private var thread: NamedThread?
    private(set) var collectedSamples: [StateSample] = []
    private(set) var collectedWindows: [WindowSnapshot] = []
    private(set) var collectedNotes: [SessionNote] = []

    init(display: String, probesPath: String?, rateHz: Double = 5, sampleCapacity: Int = 4096) {
        samples = BoundedMailbox(capacity: sampleCapacity)
        worker = StateWorker(
            configuration: StateConfiguration(display: display, probesPath: probesPath, rateHz: rateHz),
            control: control, statistics: statistics, samples: samples, windows: windows, notes: notes,
            focusedWindow: focusedWindow, logger: Logger(label: "test-state")
        )
    }

    /// Spawns the thread and waits for the start-up outcome; on `.ready` the session begins at once.
    func start() throws -> StartupBarrier.Outcome {
        let worker = self.worker
        let barrier = self.barrier
        thread = try NamedThread.spawn(name: StateWorker.threadName) { worker.run(startup: barrier) }
        let outcome = barrier.wait(timeoutNanoseconds: 10_000_000_000)
        if outcome == .ready { control.begin(at: MonotonicClock.now()) }
        return outcome
    }

    /// Moves whatever the worker sent into the collected arrays.
    func collect() {
        collectedSamples += samples.drain()
        collectedWindows += windows.drain()
        collectedNotes += notes.drain()
    }

    /// Waits until at least `count` more samples arrived (or a generous minute passed); returns the new ones.
    @discardableResult
    func waitForSamples(_ count: Int) -> [StateSample] {
        let before = collectedSamples.count
        let deadline = Date().addingTimeInterval(60)
        while collectedSamples.count < before + count, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            collect()
        }
        return Array(collectedSamples[before...])
    }

    /// Waits until `condition` holds on the collected data (or `seconds` passed).
    func waitUntil(seconds: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            collect()
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Stops the session and joins the thread; returns whether it ended within 10 s.
    @discardableResult
    func stop() -> Bool {
        control.requestStop(.stopped)
        let joined = thread?.join(timeoutNanoseconds: 10_000_000_000) ?? true
        collect()
        return joined
    }

    /// The values of field `name` in every collected sample.
    func values(_ name: String) -> [Double] {
        guard let index = worker.schema?.fields.firstIndex(where: { $0.name == name }) else { return [] }
        return collectedSamples.map { $0.values[index] }
    }
}

/// Writes `text` to `name` inside a fresh temporary folder and returns its path.
func writeProbeFile(_ text: String, name: String = "probes.toml", in folder: URL? = nil) throws -> String {
    let directory = try folder ?? TestPaths.temporaryDirectory("state")
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// Writes a probe file holding `tables` inside a fresh temporary folder (or `folder`) and returns its path.
func writeProbeFile(_ tables: [ProbeTable], in folder: URL? = nil) throws -> String {
    try writeProbeFile(ProbeTable.toml(tables), in: folder)
}
