@testable import Capture
import Testing

struct FramePacerTests {
    @Test func deadlinesAreExactOnTheGrid() {
        let pacer = FramePacer(start: 1_000, fps: 60)
        #expect(pacer.deadline(of: 0) == 1_000)
        #expect(pacer.deadline(of: 3) == 1_000 + 50_000_000)
        #expect(pacer.deadline(of: 60) == 1_000 + 1_000_000_000)
        #expect(pacer.deadline(of: 600_000) == 1_000 + 10_000_000_000_000)
    }

    @Test func onTimeAdvancesByOne() {
        let pacer = FramePacer(start: 0, fps: 60)
        #expect(pacer.next(after: 5, now: pacer.deadline(of: 5) + 1_000_000) == (6, 0))
    }

    @Test func overrunGrabsATickLessThanHalfAPeriodOverdueAndSkipsOlderOnes() {
        let pacer = FramePacer(start: 0, fps: 60)
        let half = pacer.lateGrace
        #expect(half == 8_333_333)
        // Tick 5's grab ended 1 ns after tick 8's deadline: 6 and 7 are skipped, 8 is grabbed late.
        #expect(pacer.next(after: 5, now: pacer.deadline(of: 8) + 1) == (8, 2))
        // Tick 5's grab ended 2 ms after tick 6's deadline: tick 6 is grabbed late, nothing skipped.
        #expect(pacer.next(after: 5, now: pacer.deadline(of: 6) + 2_000_000) == (6, 0))
        // Half a period or more overdue: that tick is skipped too; the next one is ahead, never a burst.
        #expect(pacer.next(after: 5, now: pacer.deadline(of: 8) + half) == (9, 3))
        #expect(pacer.next(after: 5, now: pacer.deadline(of: 6) + half) == (7, 1))
        #expect(pacer.next(after: 0, now: pacer.deadline(of: 1) - 1) == (1, 0))
    }
}
