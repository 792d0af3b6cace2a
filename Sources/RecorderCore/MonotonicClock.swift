import CLinuxShim

/// The session's one clock: CLOCK_MONOTONIC in nanoseconds, shared by frames, input and state.
public enum MonotonicClock {
    /// Nanoseconds on CLOCK_MONOTONIC now.
    @inline(__always)
    public static func now() -> Int64 { CLinuxShim_monotonic_ns() }

    /// Nanoseconds since the Unix epoch on CLOCK_REALTIME now.
    public static func wallNow() -> Int64 { CLinuxShim_realtime_ns() }

    /// Sleeps until an absolute CLOCK_MONOTONIC deadline (TIMER_ABSTIME, so no drift accumulates).
    @inline(__always)
    public static func sleep(until deadline: Int64) { CLinuxShim_sleep_until_monotonic_ns(deadline) }

    /// CPU time the calling thread has used, user plus system, in nanoseconds.
    public static func threadCPUTime() -> Int64 { CLinuxShim_thread_cpu_ns() }

    /// The offset that turns a monotonic reading into UTC: `utc = mono + offset`.
    ///
    /// Taken as the midpoint of three readings so the error stays below a microsecond.
    public static func monotonicToUTCOffset() -> Int64 { measureUTCOffset(samples: 5).offset }

    /// `utc = mono + offset` from the tightest of `samples` monotonic/realtime/monotonic readings;
    /// `error` is half that reading's width, the most the offset can be off by.
    @inline(__always)
    public static func measureUTCOffset(samples: Int) -> (offset: Int64, error: Int64) {
        var best = Int64.max
        var offset: Int64 = 0
        for _ in 0..<max(1, samples) {
            let before = now()
            let wall = wallNow()
            let after = now()
            if after - before < best {
                best = after - before
                offset = wall - (before + (after - before) / 2)
            }
        }
        return (offset, (best + 1) / 2)
    }
}
