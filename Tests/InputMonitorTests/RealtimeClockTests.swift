#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import InputMonitor
@testable import RecorderCore

/// The realtime fallback of a device that refuses EVIOCSCLOCKID, on the machine's real clocks.
@Suite struct RealtimeClockTests {
    /// A device (a replay's, whose description is all the conversion needs) switched to realtime stamps.
    private func realtimeDevice() throws -> InputDevice {
        let recording = try EvemuRecording.load(path: Fixture.path("madcatz-xbox360-pad.events"), eventsPath: nil)
        guard case .success(let (device, writeFD)) = InputDevice.open(replay: recording, id: 0) else {
            Issue.record("the replay device did not open")
            throw RecorderError.failed("no device")
        }
        close(writeFD)
        device.clockRefusal = "EVIOCSCLOCKID: test"
        device.measureClockOffset()
        return device
    }

    @Test func aRealtimeStampLandsOnMonotonicWithinTheMeasuredError() throws {
        let device = try realtimeDevice()
        for _ in 0..<100 {
            device.measureClockOffset()
            let before = MonotonicClock.now()
            let wall = MonotonicClock.wallNow()
            let after = MonotonicClock.now()
            let stamp = device.monotonic(fromRealtime: wall)
            // The wall reading happened between `before` and `after`; the offset is off by at most clockErrorNs.
            #expect(stamp >= before - device.clockErrorNs && stamp <= after + device.clockErrorNs,
                    "stamp \(stamp - before) ns after `before`, window \(after - before) ns, error \(device.clockErrorNs) ns")
        }
        #expect(device.clockErrorNs < 1_000_000, "the offset is measured to well under a millisecond")
        #expect(device.replacedStamps == 0)
    }

    @Test func aStampOutsidePreviousStampToReadTimeBecomesTheReadTime() throws {
        let device = try realtimeDevice()
        let wall = MonotonicClock.wallNow()
        // From before the device was opened (a node that does not stamp on CLOCK_REALTIME, a clock set back).
        let before = MonotonicClock.now()
        let early = device.monotonic(fromRealtime: wall - 3_600_000_000_000)
        #expect(early >= before && early <= MonotonicClock.now())
        // From the future (a clock set forward between the event and the read).
        let late = device.monotonic(fromRealtime: MonotonicClock.wallNow() + 3_600_000_000_000)
        #expect(late >= early && late <= MonotonicClock.now())
        // Stamps never go back: one before the previous one is replaced too.
        let previous = device.monotonic(fromRealtime: MonotonicClock.wallNow())
        let older = device.monotonic(fromRealtime: MonotonicClock.wallNow() - 1_000_000_000)
        #expect(older >= previous)
        #expect(device.replacedStamps == 3)
    }
}
