@testable import FrameCodec
import RecorderCore
import Testing

/// The governor's rule (docs/FORMAT.md, "Falling behind"): escalate at once, step back one level at a
/// time with hysteresis, for the pool's 8 jobs.
@Suite struct CompressionGovernorTests {
    @Test func escalatesAtOnceAndStepsBackOneLevelAtATime() {
        let governor = CompressionGovernor(jobCount: 8)
        #expect(governor.effort(backlog: 0) == .best)
        #expect(governor.effort(backlog: 1) == .best)
        #expect(governor.effort(backlog: 2) == .fast)
        #expect(governor.effort(backlog: 5) == .unfiltered)
        // Still behind: stays unfiltered until the backlog is down to 1.
        #expect(governor.effort(backlog: 3) == .unfiltered)
        #expect(governor.effort(backlog: 2) == .unfiltered)
        #expect(governor.effort(backlog: 1) == .fast)
        // Fast until 30 calm frames in a row; a frame with 2 waiting restarts the count.
        for _ in 0..<(CompressionGovernor.calmFramesToRecover - 2) { #expect(governor.effort(backlog: 0) == .fast) }
        #expect(governor.effort(backlog: 2) == .fast)
        for _ in 0..<(CompressionGovernor.calmFramesToRecover - 1) { #expect(governor.effort(backlog: 1) == .fast) }
        #expect(governor.effort(backlog: 0) == .best)
        #expect(governor.effort(backlog: 1) == .best)
    }

    @Test func theFastLevelIsNeverSlowerThanTheSessionsOwn() {
        #expect(CompressionGovernor.fastLevel(codec: .zstd, level: 1) == -4)
        #expect(CompressionGovernor.fastLevel(codec: .zstd, level: -10) == -10)
        #expect(CompressionGovernor.fastLevel(codec: .lz4, level: 1) == 8)
        #expect(CompressionGovernor.fastLevel(codec: .lz4, level: 20) == 20)
    }
}
