/// The fixed schedule of a session: deadline(tick) = start + tick * 1e9 / fps. After an overrun a tick
/// less than half a period overdue is still grabbed, late; older ones are skipped, never burst.
struct FramePacer {
    let start: Int64
    let fps: Int64
    /// How overdue a tick may be and still be grabbed: half a period, so a late grab never comes
    /// closer than half a period to the next one.
    let lateGrace: Int64

    init(start: Int64, fps: Int) {
        self.start = start
        self.fps = Int64(fps)
        lateGrace = 500_000_000 / Int64(fps)
    }

    /// CLOCK_MONOTONIC deadline of `tick`, exact to the nanosecond (no accumulated rounding).
    @inline(__always)
    func deadline(of tick: Int64) -> Int64 {
        start + tick * 1_000_000_000 / fps
    }

    /// The tick to run after `tick`: the first whose deadline is ahead of `now - lateGrace`. A grab that
    /// ran a few milliseconds past the next deadline (an X server busy with the game) so costs that
    /// frame's timing, not the frame.
    /// - Returns: that tick and how many ticks were skipped on the way.
    func next(after tick: Int64, now: Int64) -> (tick: Int64, skipped: Int64) {
        let following = tick + 1
        let cutoff = now - lateGrace
        if deadline(of: following) > cutoff { return (following, 0) }
        // First tick with deadline > cutoff: floor((cutoff - start) * fps / 1e9) + 1, checked against rounding.
        var candidate = max(following, (cutoff - start) * fps / 1_000_000_000 + 1)
        while deadline(of: candidate) <= cutoff { candidate += 1 }
        while candidate > following && deadline(of: candidate - 1) > cutoff { candidate -= 1 }
        return (candidate, candidate - following)
    }
}
