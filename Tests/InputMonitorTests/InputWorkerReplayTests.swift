import Foundation
import Testing
@testable import InputMonitor
@testable import RecorderCore

@Suite struct InputWorkerReplayTests {
    /// Every real fixture played at once, as four live devices in one epoll loop (about 53 s: the
    /// PS/2 recording is that long).
    @Test func fixturesArriveExactlyWithTheirSpacing() throws {
        let sources: [(SessionOptions.InputSource, String, String?)] = [
            (.replay(path: Fixture.path("logitech-k400-plus.events"), eventsPath: nil), Fixture.path("logitech-k400-plus.events"), nil),
            (.replay(path: Fixture.path("ps2-generic-mouse.desc"), eventsPath: Fixture.path("ps2-generic-mouse.events")), Fixture.path("ps2-generic-mouse.desc"), Fixture.path("ps2-generic-mouse.events")),
            (.replay(path: Fixture.path("saitek-rat5-mouse.desc"), eventsPath: Fixture.path("saitek-rat5-mouse.events")), Fixture.path("saitek-rat5-mouse.desc"), Fixture.path("saitek-rat5-mouse.events")),
            (.replay(path: Fixture.path("madcatz-xbox360-pad.events"), eventsPath: nil), Fixture.path("madcatz-xbox360-pad.events"), nil),
        ]
        let recordings = try sources.map { try EvemuRecording.load(path: $0.1, eventsPath: $0.2) }
        let harness = try InputHarness(InputConfiguration(sources: sources.map(\.0)))
        #expect(harness.waitReady() == .ready)

        // Device rows are in the mailbox before the session starts, so before any event.
        let rows = harness.devices.drain()
        #expect(rows.map(\.id) == [0, 1, 2, 3])
        #expect(rows.map(\.name) == ["Logitech K400 Plus", "PS/2 Generic Mouse", "Saitek Cyborg R.A.T.5 Mouse", "Mad Catz Wired Xbox 360 Controller"])
        #expect(rows.map(\.kind) == ["keyboard", "mouse", "mouse", "gamepad"])
        #expect(rows[1].path == "replay:\(Fixture.path("ps2-generic-mouse.desc")),\(Fixture.path("ps2-generic-mouse.events"))")
        #expect(rows[3].capabilities[3] == [0, 1, 2, 3, 4, 5, 16, 17])
        #expect(harness.statistics.inputDevices.load(ordering: .relaxed) == 4)

        let t0 = harness.begin()
        let total = recordings.reduce(0) { $0 + $1.events.count }
        let stored = harness.collect(count: total, timeoutSeconds: 90)
        // Each replay ends like an unplugged device. The last event and that end are two reads of the
        // loop: wait for the end before stopping, or a stop between them cuts it off.
        #expect(harness.waitForNotes("device-removed", count: 4).count == 4)
        #expect(harness.stop())
        #expect(stored.count == total)
        #expect(harness.events.isEmpty, "nothing beyond the recordings")
        #expect(harness.statistics.inputEvents.load(ordering: .relaxed) == Int64(total))
        #expect(harness.statistics.inputDropped.load(ordering: .relaxed) == 0)

        for (id, recording) in recordings.enumerated() {
            let mine = stored.filter { $0.device == UInt16(id) }
            #expect(mine.count == recording.events.count, "\(recording.name)")
            #expect(mine.map(\.type) == recording.events.map(\.type), "\(recording.name)")
            #expect(mine.map(\.code) == recording.events.map(\.code), "\(recording.name)")
            #expect(mine.map(\.value) == recording.events.map(\.value), "\(recording.name)")
            #expect(mine.allSatisfy { $0.flags == 0 })
            let first = recording.events[0].timeNs
            let worst = zip(mine, recording.events).map { abs(($0.tNs - t0) - ($1.timeNs - first)) }.max() ?? 0
            #expect(worst <= 2_000_000, "\(recording.name): timestamps off the recording's spacing by \(worst) ns")
        }
        #expect(harness.allNotes().filter { $0.kind == "device-removed" }.count == 4, "one end per replay, no more")
    }

    /// A hand-written recording: SYN_DROPPED, autorepeat, comments, negative values.
    @Test func handWrittenRecordingWithSynDropped() throws {
        let text = """
            # EVEMU 1.3
            # hand-written: a keyboard with a wheel
            N: Hand Keyboard
            I: 0003 1234 5678 0001
            B: 00 0b 00 00 00 00 00 00 00
            B: 01 fe ff ff ff 00 00 00 00
            B: 02 00 01 00 00 00 00 00 00
            E: 0.000001 0001 0023 1      # KEY_H down
            E: 0.000001 0000 0000 0
            E: 0.010000 0002 0008 -1     # wheel down
            E: 0.010000 0000 0000 0
            E: 0.020000 0000 0003 0      # SYN_DROPPED from the kernel
            E: 0.030000 0001 0023 2      # autorepeat
            E: 0.030000 0000 0000 1
            E: 0.040000 0002 0008 -120
            E: 0.040000 0001 0023 0
            E: 0.040000 0000 0000 0
            """
        let path = try Fixture.write(text, name: "hand.events")
        let recording = try EvemuRecording.load(path: path, eventsPath: nil)
        let harness = try InputHarness(InputConfiguration(sources: [.replay(path: path, eventsPath: nil)]))
        #expect(harness.waitReady() == .ready)
        let t0 = harness.begin()
        let stored = harness.collect(count: recording.events.count, timeoutSeconds: 30)
        _ = harness.waitForNote("device-removed")
        #expect(harness.stop())
        #expect(stored.map { [Int64($0.type), Int64($0.code), Int64($0.value)] } == recording.events.map { [Int64($0.type), Int64($0.code), Int64($0.value)] })
        // Stamps carry microseconds like the kernel's: each sits at t0 + its recorded offset, within 1 µs.
        let first = recording.events[0].timeNs
        let offsets = zip(stored, recording.events).map { abs(($0.tNs - t0) - ($1.timeNs - first)) }
        #expect(offsets.count == 10 && offsets.allSatisfy { $0 < 1_000 }, "\(offsets)")
        #expect(harness.statistics.inputSynDropped.load(ordering: .relaxed) == 1)
        #expect(stored[4].type == 0 && stored[4].code == 3 && stored[4].flags == 0, "the marker is stored as it came")
        let note = harness.allNotes().first { $0.kind == "syn-dropped" }
        #expect(note?.message.contains("1 time(s)") == true)
    }

    @Test func redactionReplacesCharacterKeysAndScancodes() throws {
        let text = """
            N: Typist
            I: 0003 1234 5678 0001
            B: 01 fe ff ff ff ff ff ff ff
            E: 0.000001 0004 0004 458763   # MSC_SCAN of h
            E: 0.000001 0001 0023 1        # KEY_H
            E: 0.000001 0000 0000 0
            E: 0.001000 0001 001c 1        # KEY_ENTER stays
            E: 0.001000 0001 002a 1        # KEY_LEFTSHIFT is inside libinput's range
            E: 0.001000 0001 003b 1        # KEY_F1 stays
            E: 0.001000 0001 0049 1        # KEY_KP9
            E: 0.001000 0001 0001 1        # KEY_ESC stays
            E: 0.001000 0000 0000 0
            """
        let path = try Fixture.write(text, name: "typist.events")
        let harness = try InputHarness(InputConfiguration(sources: [.replay(path: path, eventsPath: nil)], redactKeys: true))
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        let stored = harness.collect(count: 9, timeoutSeconds: 30)
        #expect(harness.stop())
        #expect(stored.map(\.code) == [4, 30, 0, 28, 30, 59, 30, 1, 0])
        #expect(stored.map(\.value) == [30, 1, 0, 1, 1, 1, 1, 1, 0])
        let redacted = InputEvent.Flags.redacted
        #expect(stored.map { $0.flags & redacted != 0 } == [true, true, false, false, true, false, true, false, false])
        #expect(KeyRedaction.redactHeldKeys([35, 42, 59]) == [30, 59])
    }

    @Test func focusFilterPausesAndResumesWithNotes() throws {
        let text = """
            N: Focus Mouse
            I: 0003 1234 5678 0001
            B: 02 03 00 00 00 00 00 00 00
            E: 0.000001 0002 0000 1
            E: 0.000001 0000 0000 0
            E: 3.000000 0002 0000 2
            E: 3.000000 0000 0000 0
            """
        let path = try Fixture.write(text, name: "focus.events")
        let harness = try InputHarness(InputConfiguration(sources: [.replay(path: path, eventsPath: nil)], focusFilter: "Game"))
        let other = WindowSnapshot(tNs: 0, windowID: 1, title: "Terminal", wmClass: "xterm", pid: 1, x: 0, y: 0, width: 10, height: 10)
        harness.focusedWindow.publish(other)
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        #expect(harness.waitForNote("input-paused") != nil)
        // The next events are due 3 s after the start: focus comes back well before them, even on a loaded machine.
        MonotonicClock.sleep(until: MonotonicClock.now() + 300_000_000)
        var game = other
        game.title = "My Game"
        harness.focusedWindow.publish(game)
        let stored = harness.collect(count: 2, timeoutSeconds: 30)
        #expect(harness.stop())
        #expect(stored.map(\.value) == [2, 0], "only the events after focus returned are stored")
        let resumed = harness.allNotes().first { $0.kind == "input-resumed" }
        #expect(resumed?.message.contains("2 events were not stored") == true)
        #expect(harness.statistics.inputEvents.load(ordering: .relaxed) == 4, "paused events are still read")
    }

    @Test func fullRingCountsDropsAndSaysSo() throws {
        var text = "N: Burst\nI: 0003 1234 5678 0001\nB: 02 03 00 00 00 00 00 00 00\n"
        for index in 0..<100 { text += "E: 0.000001 0002 0000 \(index)\n" }
        let path = try Fixture.write(text, name: "burst.events")
        let harness = try InputHarness(InputConfiguration(sources: [.replay(path: path, eventsPath: nil)]), ringCapacity: 16)
        #expect(harness.waitReady() == .ready)
        _ = harness.begin()
        _ = harness.waitForNote("device-removed")
        #expect(harness.stop())
        let kept = harness.collect(count: 100, timeoutSeconds: 0.2)
        #expect(kept.map(\.value) == Array(0..<16).map { Int32($0) }, "the first 16 fit, in order")
        #expect(harness.statistics.inputDropped.load(ordering: .relaxed) == 84)
        let note = harness.allNotes().first { $0.kind == "input-dropped" }
        #expect(note?.message.hasPrefix("84 input events dropped") == true)
    }

    @Test func badReplayFileFailsStartupNamingFileAndLine() throws {
        let path = try Fixture.write("N: x\nI: 0003 0001 0002 0003\nE: 0.1 zz 0000 1\n", name: "bad.events")
        let harness = try InputHarness(InputConfiguration(sources: [.replay(path: path, eventsPath: nil)]))
        guard case .failed(let worker, let message) = harness.waitReady() else {
            Issue.record("start-up did not fail")
            return
        }
        #expect(worker == InputWorker.threadName)
        #expect(message.contains("\(path):3:"))
        #expect(harness.stop())
    }
}
