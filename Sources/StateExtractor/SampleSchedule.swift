/// The sampler's timetable: sample k is due at `start + k / rate` on CLOCK_MONOTONIC.
///
/// Deadlines are absolute, so lateness never accumulates; after an overrun the schedule resumes at the first
/// slot still ahead instead of firing the missed ones back to back.
struct SampleSchedule {
    let start: Int64
    let periodNanoseconds: Double

    init(start: Int64, rateHz: Double) {
        self.start = start
        periodNanoseconds = 1e9 / rateHz
    }

    /// When slot `slot` is due.
    func deadline(of slot: Int64) -> Int64 {
        start + Int64((Double(slot) * periodNanoseconds).rounded())
    }

    /// The slot to sample after `slot`, given that it is now `now`: the next one, or the first one after `now`.
    func slot(after slot: Int64, now: Int64) -> Int64 {
        let next = slot + 1
        if deadline(of: next) > now { return next }
        var ahead = Int64((Double(now - start) / periodNanoseconds).rounded(.down)) + 1
        // Rounding of deadline() can put the computed slot a hair behind `now`.
        while deadline(of: ahead) <= now { ahead += 1 }
        return max(ahead, next)
    }
}
