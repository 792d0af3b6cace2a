import RecorderCore
import Synchronization

/// How much work a compressor spends on one frame; the pipeline degrades compression, never frames.
package enum CompressionEffort: Int, Sendable, CaseIterable {
    /// The session's codec at its level.
    case best = 0
    /// The session's codec at its fast level (`CompressionGovernor.fastLevel`): a valid chunk of the same filter.
    case fast = 1
    /// The frame's bytes as they are, written with the filter skipped (HDF5 filter mask bit 0): every
    /// HDF5 reader honours the mask, so the chunk reads back like any other.
    case unfiltered = 2
}

/// Picks each frame's `CompressionEffort` from how far the compressors are behind, with hysteresis.
///
/// The backlog is the number of frames submitted after the one about to be compressed and not yet
/// taken (0 ..< jobCount). Falling behind escalates at once; catching up steps back one level at a
/// time: from `unfiltered` as soon as the backlog is down to an eighth of the jobs, from `fast` after
/// `calmFramesToRecover` frames in a row with at most one frame waiting. A frame compressed at `best`
/// while the jobs run out would cost a capture slot, and once all slots are taken, a tick.
package final class CompressionGovernor: Sendable {
    /// The level of `CompressionEffort.fast`: zstd -4 (about twice level 1's speed), LZ4 acceleration 8;
    /// never slower than the session's own level.
    package static func fastLevel(codec: SessionOptions.Codec, level: Int) -> Int {
        switch codec {
        case .zstd: min(level, -4)
        case .lz4: max(level, 8)
        case .none: level
        }
    }

    /// Frames in a row with at most one waiting before `fast` returns to `best` (half a second at 60 FPS).
    static let calmFramesToRecover = 30

    private struct State {
        var effort = CompressionEffort.best
        var calm = 0
    }

    package let jobCount: Int
    private let state = Mutex(State())

    package init(jobCount: Int) {
        self.jobCount = jobCount
    }

    /// The effort for the frame about to be compressed, given `backlog` frames waiting behind it.
    package func effort(backlog: Int) -> CompressionEffort {
        // Of 8 jobs: 2 waiting (a frame's time behind at 60 FPS on two threads) go fast, 5 unfiltered,
        // back to fast at 1. Early: a frame already being compressed at `best` cannot be sped up.
        let fastAt = max(1, jobCount / 4)
        let unfilteredAt = max(fastAt + 1, jobCount / 2 + 1)
        let recoverBelow = jobCount / 8
        return state.withLock { s in
            if backlog >= unfilteredAt {
                s.effort = .unfiltered
            } else if backlog >= fastAt {
                if s.effort == .best { s.effort = .fast }
            } else if s.effort == .unfiltered && backlog <= recoverBelow {
                s.effort = .fast
            }
            if s.effort == .fast {
                s.calm = backlog <= 1 ? s.calm + 1 : 0
                if s.calm >= Self.calmFramesToRecover {
                    s.effort = .best
                    s.calm = 0
                }
            } else {
                s.calm = 0
            }
            return s.effort
        }
    }
}
