import Testing
@testable import InputMonitor

@Suite struct DeviceClassifierTests {
    @Test(arguments: [
        ("logitech-k400-plus.events", "keyboard"),
        ("ps2-generic-mouse.desc", "mouse"),
        ("saitek-rat5-mouse.desc", "mouse"),
        ("madcatz-xbox360-pad.events", "gamepad"),
    ])
    func fixtureDevices(file: String, kind: String) throws {
        let recording = try EvemuRecording.load(path: Fixture.path(file), eventsPath: nil)
        #expect(DeviceClassifier.kind(of: recording.capabilities, properties: recording.properties) == kind)
    }

    @Test func udevRulesForOtherKinds() {
        let btnToolFinger: UInt16 = 0x145, btnTouch: UInt16 = 0x14a, btnToolPen: UInt16 = 0x140, btnLeft: UInt16 = 0x110
        // Touchpad: absolute x/y, finger tool, not direct.
        #expect(DeviceClassifier.kind(of: [1: [btnLeft, btnToolFinger, btnTouch], 3: [0, 1, 0x35, 0x36, 0x2f]], properties: [0]) == "touchpad")
        // Tablet: pen tool.
        #expect(DeviceClassifier.kind(of: [1: [btnToolPen, btnTouch, 0x14b], 3: [0, 1, 0x18]], properties: []) == "tablet")
        // Touchscreen: direct MT device with BTN_TOUCH.
        #expect(DeviceClassifier.kind(of: [1: [btnTouch], 3: [0, 1, 0x2f, 0x35, 0x36]], properties: [1]) == "touchscreen")
        // Joystick: trigger button, x/y/rx axes, no BTN_GAMEPAD.
        #expect(DeviceClassifier.kind(of: [1: [0x120, 0x121], 3: [0, 1, 3]], properties: []) == "joystick")
        // A keyboard with a few joystick buttons set stays out of the joystick class (udev's heuristic).
        #expect(DeviceClassifier.kind(of: [1: [29, 58, 69, 110, 0x120]], properties: []) == "other")
        // Accelerometer and power-button-like devices are "other".
        #expect(DeviceClassifier.kind(of: [3: [0, 1, 2]], properties: [6]) == "other")
        #expect(DeviceClassifier.kind(of: [1: [116]], properties: []) == "other")
    }
}
