@testable import StateExtractor
import Testing

/// The timetable on its own: absolute deadlines and no burst after an overrun.
@Suite
struct SampleScheduleTests {
    private let schedule = SampleSchedule(start: 1_000_000_000, rateHz: 5)

    @Test func deadlinesAreAbsolute() {
        #expect(schedule.deadline(of: 0) == 1_000_000_000)
        #expect(schedule.deadline(of: 1) == 1_200_000_000)
        #expect(schedule.deadline(of: 1000) == 201_000_000_000)
        let odd = SampleSchedule(start: 0, rateHz: 3)
        #expect(odd.deadline(of: 3) == 1_000_000_000 && odd.deadline(of: 1) == 333_333_333)
    }

    @Test func onTimeSampleTakesTheNextSlot() {
        #expect(schedule.slot(after: 4, now: schedule.deadline(of: 4) + 5_000_000) == 5)
    }

    @Test func overrunSkipsToTheFirstSlotAhead() {
        // Sample 2 ran 450 ms: slots 3 and 4 are gone, the next sample is slot 5 (not 3, 4, 5 back to back).
        let now = schedule.deadline(of: 2) + 450_000_000
        #expect(schedule.slot(after: 2, now: now) == 5)
        #expect(schedule.deadline(of: 5) > now)
        // Finishing exactly on a deadline skips that slot too.
        #expect(schedule.slot(after: 2, now: schedule.deadline(of: 4)) == 5)
    }
}
