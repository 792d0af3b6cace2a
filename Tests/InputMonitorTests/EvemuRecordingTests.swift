import Testing
@testable import InputMonitor
@testable import RecorderCore

@Suite struct EvemuRecordingTests {
    static let mouseDescription = """
        N: Test Mouse
        I: 0003 046d c077 0111
        B: 00 0b 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 07 00 00 00 00 00
        B: 02 03 01 00 00 00 00 00 00

        """

    @Test func headerlessFileIsVersion1_0WithFourNumberAbsLines() throws {
        let text = """
            N: Old Pad
            I: 0003 0738 4716 0110
            B: 03 03 00 00 00 00 00 00 00
            A: 00 -32768 32767 16 128
            A: 01 -32768 32767 16 128
            E: 0.000001 0003 0000 -5
            E: 0.000001 0000 0000 0
            """
        let recording = try EvemuRecording.parse(description: text)
        #expect(recording.formatVersion == "1.0")
        #expect(recording.absInfo.map(\.code) == [0, 1])
        #expect(recording.absInfo[0] == .init(code: 0, minimum: -32768, maximum: 32767, fuzz: 16, flat: 128, resolution: 0))
        #expect(recording.capabilities[3] == [0, 1])
        #expect(recording.events == [.init(timeNs: 1000, type: 3, code: 0, value: -5), .init(timeNs: 1000, type: 0, code: 0, value: 0)])
    }

    @Test(arguments: ["1.1", "1.2", "1.3"])
    func headerVersionsAreRead(version: String) throws {
        let abs = version == "1.1" ? "A: 00 0 1000 0 0" : "A: 00 0 1000 0 0 12"
        let text = "# EVEMU \(version)\n# Kernel: 6.1\nN: Pad\nI: 0003 0001 0002 0003\nP: 02 00 00 00 00 00 00 00\nB: 03 01 00 00 00 00 00 00 00\n\(abs)\nE: 1.5 0003 0000 7\n"
        let recording = try EvemuRecording.parse(description: text)
        #expect(recording.formatVersion == version)
        #expect(recording.properties == [1])
        #expect(recording.absInfo[0].resolution == (version == "1.1" ? 0 : 12))
        #expect(recording.events[0].timeNs == 1_500_000_000)
    }

    @Test func commentsLedsSwitchesAndHashInName() throws {
        let text = """
            # EVEMU 1.3
            # a comment line
            N: Keyboard #2 (left)
            I: 0011 0001 0001 ab41   # ids
            B: 01 fe ff ff ff 00 00 00 00   # ESC..D
            B: 11 07 00 00 00 00 00 00 00
            L: 00 1
            L: 01 0
            S: 05 1
                # indented comment
            E: 0.000001 0001 001e 0001\t# EV_KEY / KEY_A 1
            E: 0.000200 0001 001e 0002
            E: 0.000300 0000 0000 0001\t# ------------ SYN_REPORT (1) ----------
            """
        let recording = try EvemuRecording.parse(description: text)
        #expect(recording.name == "Keyboard #2 (left)")
        #expect(recording.version == 0xab41)
        #expect(recording.leds == [0: 1, 1: 0])
        #expect(recording.switches == [5: 1])
        #expect(recording.capabilities[1] == Array(1...31).map { UInt16($0) })
        #expect(recording.events.map(\.value) == [1, 2, 1])
        #expect(recording.events.map(\.timeNs) == [1_000, 200_000, 300_000])
    }

    @Test func splitFixtureFiles() throws {
        let recording = try EvemuRecording.load(path: Fixture.path("ps2-generic-mouse.desc"), eventsPath: Fixture.path("ps2-generic-mouse.events"))
        #expect(recording.name == "PS/2 Generic Mouse")
        #expect(recording.formatVersion == "1.2")
        #expect((recording.bus, recording.vendor, recording.product) == (0x11, 0x02, 0x01))
        #expect(recording.capabilities[1] == [272, 273, 274])
        #expect(recording.capabilities[2] == [0, 1])
        #expect(recording.events.count == 7147)
        #expect(recording.events.first == .init(timeNs: 1_329_846_856_201_613_000, type: 2, code: 1, value: -1))

        // A .desc given alone finds its sibling .events.
        let alone = try EvemuRecording.load(path: Fixture.path("saitek-rat5-mouse.desc"), eventsPath: nil)
        #expect(alone.events.count == 1838)
        #expect(alone.capabilities[1] == Array(272...284).map { UInt16($0) })
        #expect(alone.capabilities[4] == [4])
    }

    @Test func singleFileFixtures() throws {
        let keyboard = try EvemuRecording.load(path: Fixture.path("logitech-k400-plus.events"), eventsPath: nil)
        #expect(keyboard.formatVersion == "1.3")
        #expect(keyboard.events.count == 15)
        #expect(keyboard.events.filter { $0.type == 1 && $0.value == 2 }.count == 3, "three autorepeats")
        #expect(keyboard.absInfo.map(\.code) == [0x20])
        let pad = try EvemuRecording.load(path: Fixture.path("madcatz-xbox360-pad.events"), eventsPath: nil)
        #expect(pad.events.count == 500)
        #expect(pad.absInfo.count == 8)
        #expect(pad.absInfo[0] == .init(code: 0, minimum: -32768, maximum: 32767, fuzz: 16, flat: 128, resolution: 0))
    }

    @Test func errorsNameFileAndLine() throws {
        let path = try Fixture.write(Self.mouseDescription + "E: 0.1 0002 0000 1\nE: zero 0002 0000 1\n", name: "broken.events")
        #expect(throws: RecorderError.invalidConfiguration("replay: \(path):11: E: needs sec.usec type code value (type and code hex, value decimal): 'E: zero 0002 0000 1'")) {
            _ = try EvemuRecording.load(path: path, eventsPath: nil)
        }
        #expect(throws: RecorderError.self) { _ = try EvemuRecording.parse(description: "N: x\nI: 1 2 3\n") }
        #expect(throws: RecorderError.self) { _ = try EvemuRecording.parse(description: "N: x\nI: 1 2 3 4\nB: 01 00\nE: 0.1 0 0 0\n") }
        #expect(throws: RecorderError.self) { _ = try EvemuRecording.parse(description: "N: x\nI: 1 2 3 4\nA: 00 1 2 3\nE: 0.1 0 0 0\n") }
        #expect(throws: RecorderError.self) { _ = try EvemuRecording.parse(description: "N: x\nI: 1 2 3 4\nQ: what\n") }
        #expect(throws: RecorderError.self, "no events") { _ = try EvemuRecording.parse(description: "N: x\nI: 1 2 3 4\n") }
        #expect(throws: RecorderError.self, "events before the description") { _ = try EvemuRecording.parse(description: "E: 0.1 0 0 0\nN: x\nI: 1 2 3 4\n") }
        #expect(throws: RecorderError.invalidConfiguration("replay: /nonexistent/x.events is not a readable regular file")) {
            _ = try EvemuRecording.load(path: "/nonexistent/x.events", eventsPath: nil)
        }
    }
}
