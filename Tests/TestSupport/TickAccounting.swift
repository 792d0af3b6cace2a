import Foundation

/// What a sealed session file says about its 60 FPS schedule: the ticks it holds, the ticks it lacks,
/// and the losses its own summary reports (dropped frames, missed ticks, failed grabs, skipped frames).
///
/// A loaded machine may drop frames; the recorder must then say so in the file. Tests check that
/// every tick of the schedule is either stored or reported lost, never that none was lost.
public struct TickAccounting: CustomStringConvertible {
    /// Frames stored in `/video/frames`.
    public let frames: Int
    /// Ticks from 0 to the last stored one that have no frame.
    public let missingTicks: Int
    /// `frames_dropped + ticks_missed + grab_failures + frames_skipped` from `summary_json`.
    public let reportedLost: Int
    /// `frames` as the writer's summary counts them.
    public let framesInSummary: Int
    /// True when ticks only increase.
    public let ticksIncrease: Bool

    /// Reads the accounting of a `session_checks.py summary` answer.
    public init(summary: [String: Any]) {
        let counters = summary["counters"] as? [String: Any] ?? [:]
        frames = summary["frames"] as? Int ?? 0
        missingTicks = summary["missing_ticks"] as? Int ?? Int.max
        reportedLost = summary["reported_lost"] as? Int ?? 0
        framesInSummary = counters["frames"] as? Int ?? -1
        ticksIncrease = summary["ticks_strictly_increasing"] as? Bool ?? false
    }

    /// Runs `session_checks.py summary` on `file`.
    public init(file: String) throws {
        self.init(summary: try sessionCheck("summary", file))
    }

    /// Ticks of the schedule the file accounts for: stored plus reported lost.
    public var accountedTicks: Int { frames + reportedLost }

    /// True when the file holds what its summary says and every tick it lacks is reported lost.
    public var isComplete: Bool {
        ticksIncrease && framesInSummary == frames && missingTicks <= reportedLost
    }

    public var description: String {
        "\(frames) frames (summary \(framesInSummary)), \(missingTicks) ticks missing, \(reportedLost) reported lost, ticks increase: \(ticksIncrease)"
    }
}
