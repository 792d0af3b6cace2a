import Foundation
import Logging
import Synchronization
import TestSupport
@testable import InputMonitor
@testable import RecorderCore

/// Runs one InputWorker on its own NamedThread with real rings, as the orchestrator does.
final class InputHarness: @unchecked Sendable {
    // @unchecked Sendable: every stored property is itself Sendable and set once in init.
    let control = SessionControl()
    let statistics = SessionStatistics()
    let events: SPSCRing<InputEvent>
    let devices = BoundedMailbox<InputDeviceInfo>(capacity: 64)
    let notes = BoundedMailbox<SessionNote>(capacity: 1024)
    let focusedWindow = FocusedWindow()
    let barrier = StartupBarrier(workers: [InputWorker.threadName])
    let worker: InputWorker
    let thread: NamedThread
    private let collectedNotes = Mutex<[SessionNote]>([])

    init(_ configuration: InputConfiguration, ringCapacity: Int = 1 << 15) throws {
        events = SPSCRing(capacity: ringCapacity)
        let worker = InputWorker(
            configuration: configuration, control: control, statistics: statistics, events: events,
            devices: devices, notes: notes, focusedWindow: focusedWindow, logger: Logger(label: "test-input")
        )
        self.worker = worker
        let barrier = self.barrier
        thread = try NamedThread.spawn(name: InputWorker.threadName) { worker.run(startup: barrier) }
    }

    func waitReady() -> StartupBarrier.Outcome { barrier.wait(timeoutNanoseconds: 10_000_000_000) }

    /// Publishes time zero and returns it.
    func begin() -> Int64 {
        let t0 = MonotonicClock.now()
        control.begin(at: t0)
        return t0
    }

    /// Pops events until `count` arrived or `timeoutSeconds` passed.
    func collect(count: Int, timeoutSeconds: Double) -> [InputEvent] {
        var out: [InputEvent] = []
        let deadline = MonotonicClock.now() + Int64(timeoutSeconds * 1e9)
        while out.count < count {
            let left = deadline - MonotonicClock.now()
            if left <= 0 { break }
            if let event = events.pop(timeoutNanoseconds: min(left, 100_000_000)) { out.append(event) }
        }
        return out
    }

    /// Every note sent so far (kept across calls).
    func allNotes() -> [SessionNote] {
        let fresh = notes.drain()
        return collectedNotes.withLock { $0.append(contentsOf: fresh); return $0 }
    }

    /// Waits until a note of `kind` appears.
    func waitForNote(_ kind: String, timeoutSeconds: Double = 30) -> SessionNote? {
        waitForNotes(kind, count: 1, timeoutSeconds: timeoutSeconds).first
    }

    /// Waits until `count` notes of `kind` appeared; returns those seen by then.
    func waitForNotes(_ kind: String, count: Int, timeoutSeconds: Double = 30) -> [SessionNote] {
        let deadline = MonotonicClock.now() + Int64(timeoutSeconds * 1e9)
        var seen = allNotes().filter { $0.kind == kind }
        while seen.count < count && MonotonicClock.now() < deadline {
            MonotonicClock.sleep(until: MonotonicClock.now() + 20_000_000)
            seen = allNotes().filter { $0.kind == kind }
        }
        return seen
    }

    /// Stops the worker and joins it; true when it ended within 10 s.
    @discardableResult
    func stop() -> Bool {
        control.requestStop(.stopped)
        return thread.join(timeoutNanoseconds: 10_000_000_000)
    }
}

enum Fixture {
    static func path(_ name: String) -> String { TestPaths.evemuFixtures.appendingPathComponent(name).path }

    /// Writes `text` to a fresh temporary file and returns its path.
    static func write(_ text: String, name: String) throws -> String {
        let folder = try TestPaths.temporaryDirectory("evemu")
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}
