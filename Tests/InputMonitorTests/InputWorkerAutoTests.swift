import Foundation
import Testing
import TestSupport
@testable import InputMonitor
@testable import RecorderCore

@Suite struct InputWorkerAutoTests {
    @Test func noneArrivesAndIdles() throws {
        let harness = try InputHarness(InputConfiguration(sources: [.none]))
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        MonotonicClock.sleep(until: MonotonicClock.now() + 150_000_000)
        #expect(harness.stop())
        #expect(harness.allNotes().isEmpty)
        #expect(harness.devices.count == 0)
    }

    /// This machine has no /dev/input: the default must say so and go on.
    @Test(arguments: ["/dev/input", "/nonexistent/input"])
    func autoWithoutDevicesSaysSo(folder: String) throws {
        let harness = try InputHarness(InputConfiguration(sources: [.auto], devicesDirectory: folder))
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        let note = harness.waitForNote("no-input-devices")
        #expect(harness.stop())
        if FileManager.default.fileExists(atPath: folder) && harness.devices.count > 0 { return }
        #expect(note?.message.contains(folder) == true)
    }

    @Test func hotplugNoticesNewNodesAndLogsUnopenableOnes() throws {
        let folder = try TestPaths.temporaryDirectory("devinput")
        defer { try? FileManager.default.removeItem(at: folder) }
        let early = folder.appendingPathComponent("event0").path
        FileManager.default.createFile(atPath: early, contents: Data("not evdev".utf8))
        let harness = try InputHarness(InputConfiguration(sources: [.auto], devicesDirectory: folder.path))
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        #expect(harness.waitForNote("no-input-devices")?.message.contains("none of the 1 event* nodes") == true)
        #expect(harness.allNotes().first { $0.kind == "device-unreadable" }?.message.contains(early) == true)

        // A FIFO opens fine non-blocking but is no evdev node; a plain file likewise; other names are ignored.
        let fifo = folder.appendingPathComponent("event5").path
        #expect(mkfifo(fifo, 0o600) == 0)
        FileManager.default.createFile(atPath: folder.appendingPathComponent("mouse0").path, contents: nil)
        let deadline = MonotonicClock.now() + 5_000_000_000
        var seen: [String] = []
        while MonotonicClock.now() < deadline {
            seen = harness.allNotes().filter { $0.kind == "device-unreadable" }.map(\.message)
            if seen.contains(where: { $0.contains(fifo) }) { break }
            MonotonicClock.sleep(until: MonotonicClock.now() + 20_000_000)
        }
        #expect(seen.contains { $0.contains(fifo) && $0.contains("not an evdev device") })
        #expect(!seen.contains { $0.contains("mouse0") })
        try FileManager.default.removeItem(atPath: fifo)
        let beats = harness.statistics.inputHeartbeat.load(ordering: .relaxed)
        MonotonicClock.sleep(until: MonotonicClock.now() + 250_000_000)
        #expect(harness.statistics.inputHeartbeat.load(ordering: .relaxed) > beats, "the loop keeps running")
        #expect(harness.stop())
        #expect(harness.devices.count == 0)
    }
}
