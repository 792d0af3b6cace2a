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
        #expect(FileManager.default.createFile(atPath: early, contents: Data("not evdev".utf8)))
        let harness = try InputHarness(InputConfiguration(sources: [.auto], devicesDirectory: folder.path))
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        #expect(harness.waitForNote("no-input-devices")?.message.contains("none of the 1 event* nodes") == true)
        #expect(harness.allNotes().first { $0.kind == "device-unreadable" }?.message.contains(early) == true)

        // A FIFO opens fine non-blocking but is no evdev node; a plain file likewise; other names are ignored.
        let fifo = folder.appendingPathComponent("event5").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent("mouse0").path, contents: nil))
        let deadline = MonotonicClock.now() + 30_000_000_000
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
        let beatDeadline = MonotonicClock.now() + 30_000_000_000
        while harness.statistics.inputHeartbeat.load(ordering: .relaxed) == beats && MonotonicClock.now() < beatDeadline {
            MonotonicClock.sleep(until: MonotonicClock.now() + 20_000_000)
        }
        #expect(harness.statistics.inputHeartbeat.load(ordering: .relaxed) > beats, "the loop keeps running")
        #expect(harness.stop())
        #expect(harness.devices.count == 0)
    }

    @Test func aDevicesFolderCreatedAfterTheStartIsWatchedOnceItAppears() throws {
        let parent = try TestPaths.temporaryDirectory("devparent")
        defer { try? FileManager.default.removeItem(at: parent) }
        let folder = parent.appendingPathComponent("input")
        let harness = try InputHarness(InputConfiguration(sources: [.auto], devicesDirectory: folder.path))
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        #expect(harness.waitForNote("no-input-devices")?.message.contains("will watch it if it appears") == true)

        // A plain file of the folder's name is not the folder.
        #expect(FileManager.default.createFile(atPath: folder.path, contents: nil))
        MonotonicClock.sleep(until: MonotonicClock.now() + 200_000_000)
        #expect(!harness.allNotes().contains { $0.kind == "devices-folder-appeared" })
        try FileManager.default.removeItem(at: folder)

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let node = folder.appendingPathComponent("event3").path
        #expect(mkfifo(node, 0o600) == 0)
        #expect(harness.waitForNote("devices-folder-appeared")?.message.contains(folder.path) == true)
        #expect(waitForUnreadable(node, in: harness), "the node made right after the folder is found: \(harness.allNotes())")

        // Gone and back again: still watched.
        try FileManager.default.removeItem(at: folder)
        #expect(harness.waitForNote("device-removed")?.message.contains("waiting for it to come back") == true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let later = folder.appendingPathComponent("event7").path
        #expect(mkfifo(later, 0o600) == 0)
        #expect(waitForUnreadable(later, in: harness), "\(harness.allNotes())")
        #expect(harness.stop())
    }

    /// Waits until the input loop notes `path` as no evdev node (which proves it saw the node).
    private func waitForUnreadable(_ path: String, in harness: InputHarness) -> Bool {
        let deadline = MonotonicClock.now() + 30_000_000_000
        while MonotonicClock.now() < deadline {
            if harness.allNotes().contains(where: { $0.kind == "device-unreadable" && $0.message.contains(path) }) { return true }
            MonotonicClock.sleep(until: MonotonicClock.now() + 20_000_000)
        }
        return false
    }
}
