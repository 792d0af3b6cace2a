import CLinuxShim

/// A compressor thread's scheduling: SCHED_IDLE while the compressors keep up, nice 5 while they are
/// behind, so a game that takes the cores costs bytes for a while rather than ticks, and never every
/// frame's compression.
///
/// In SCHED_IDLE a compressor uses only cores nothing else wants, and any thread that wakes (the X
/// server answering a grab, the game, capture, the writer) takes the core from it at once. Under a
/// CPU-hungry player, compressors at nice 5 ran ahead of the woken X server, which then answered grabs
/// 20-57 ms late: 7 ticks lost in 5 runs of 25 s; in SCHED_IDLE no grab was later than 18 ms and no
/// tick was lost (BENCHMARKS.md, issue 16). But a game that fills every core would leave an idle-class
/// compressor almost nothing, and every frame would be stored unfiltered; so once its frames are
/// degraded the thread goes back to nice 5, and to SCHED_IDLE when they are compressed at the best
/// level again (the governor's hysteresis).
///
/// Leaving SCHED_IDLE needs CAP_SYS_NICE or an RLIMIT_NICE that allows nice 4 (the system unit's
/// `LimitNICE=-10`); without it the thread stays at nice 5 throughout. Used only by its own thread.
struct CompressorScheduling {
    /// The nice value outside SCHED_IDLE.
    static let nice: Int32 = 5

    /// True while the thread runs in SCHED_IDLE.
    private(set) var isIdle = false
    /// Whether the thread may come back from SCHED_IDLE, so may enter it.
    let mayIdle: Bool

    /// Sets the calling thread to nice 5, then to SCHED_IDLE if it could come back from it.
    init() {
        let niced = CLinuxShim_set_thread_nice(Self.nice) == 0
        // Raising the priority by one needs the same right as leaving SCHED_IDLE at nice 5 (or 4).
        mayIdle = niced && CLinuxShim_set_thread_nice(Self.nice - 1) == 0
        if mayIdle {
            _ = CLinuxShim_set_thread_nice(Self.nice)
            isIdle = CLinuxShim_set_thread_idle() == 0
        }
    }

    /// Follows the effort the governor chose for the thread's next frame.
    mutating func follow(_ effort: CompressionEffort) {
        guard mayIdle else { return }
        if effort == .best, !isIdle {
            isIdle = CLinuxShim_set_thread_idle() == 0
        } else if effort != .best, isIdle {
            isIdle = CLinuxShim_set_thread_normal() != 0
        }
    }
}
