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

    @Test func overrunSkipsToTheNextDeadlineAheadWithoutBursting() {
        let pacer = FramePacer(start: 0, fps: 60)
        // Tick 5's grab ended just after tick 8's deadline: 6, 7, 8 are skipped, 9 is next.
        let result = pacer.next(after: 5, now: pacer.deadline(of: 8) + 1)
        #expect(result == (9, 3))
        // Exactly at a deadline that deadline is not ahead any more.
        #expect(pacer.next(after: 5, now: pacer.deadline(of: 7)) == (8, 2))
        #expect(pacer.next(after: 0, now: pacer.deadline(of: 1) - 1) == (1, 0))
    }
}
