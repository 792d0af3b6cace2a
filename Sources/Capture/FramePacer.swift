/// The fixed schedule of a session: deadline(tick) = start + tick * 1e9 / fps, with overruns skipped, never burst.
struct FramePacer {
    let start: Int64
    let fps: Int64

    init(start: Int64, fps: Int) {
        self.start = start
        self.fps = Int64(fps)
    }

    /// CLOCK_MONOTONIC deadline of `tick`, exact to the nanosecond (no accumulated rounding).
    @inline(__always)
    func deadline(of tick: Int64) -> Int64 {
        start + tick * 1_000_000_000 / fps
    }

    /// The tick to run after `tick`: the next one whose deadline is still ahead of `now`.
    /// - Returns: that tick and how many ticks were skipped on the way.
    func next(after tick: Int64, now: Int64) -> (tick: Int64, skipped: Int64) {
        let following = tick + 1
        if deadline(of: following) > now { return (following, 0) }
        // First tick with deadline > now: floor((now - start) * fps / 1e9) + 1, checked against rounding.
        var candidate = max(following, (now - start) * fps / 1_000_000_000 + 1)
        while deadline(of: candidate) <= now { candidate += 1 }
        while candidate > following && deadline(of: candidate - 1) > now { candidate -= 1 }
        return (candidate, candidate - following)
    }
}
