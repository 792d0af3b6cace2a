import Foundation
import RecorderCore

/// What a session looks like from outside: a live status while it runs, a summary once it ended.
public struct SessionReport: Sendable, Codable, Equatable {
    /// "starting", "recording", "stopping" or "ended".
    public var state: String
    public var file: String
    public var durationSeconds: Double
    public var endReason: String?
    public var endDetail: String?
    public var cleanShutdown: Bool?
    public var width: Int?
    public var height: Int?
    public var fps: Int
    public var codec: String
    /// Frames per second written over the last full second.
    public var fpsLastSecond: Int64
    /// raw RGB bytes / stored bytes of frames written so far.
    public var compressionRatio: Double?
    /// Free bytes on the output file's filesystem.
    public var freeDiskBytes: Int64?
    public var counters: SessionStatistics.Snapshot
    /// Threads that did not stop within their timeout (named in the log too).
    public var stuckThreads: [String]
    /// Set when the session failed; what went wrong.
    public var error: String?
    /// Split sessions only: the manifest's path, the number of the part now written (or last written),
    /// and how many parts exist. `file` then names that part.
    public var manifest: String?
    public var part: Int?
    public var parts: Int?

    /// A one-line human summary, as `recorder record` prints it at the end.
    public var humanSummary: String {
        var lines: [String] = []
        lines.append("file: \(file)")
        if let manifest, let parts { lines.append("parts: \(parts), manifest \(manifest)") }
        if let endReason { lines.append("ended: \(endReason)" + (endDetail.map { " (\($0))" } ?? "") + (cleanShutdown == true ? ", sealed cleanly" : ", NOT sealed cleanly")) }
        lines.append(String(format: "duration: %.2f s", durationSeconds))
        if let width, let height { lines.append("video: \(width)x\(height) @ \(fps) fps, codec \(codec)") }
        let c = counters
        lines.append("frames: \(c.framesWritten) written, \(c.framesDropped) dropped (writer behind), \(c.ticksMissed) ticks missed (capture late), \(c.grabFailures) failed grabs")
        if let compressionRatio { lines.append(String(format: "size: %.1f MB, compression %.1fx", Double(c.fileBytes) / 1e6, compressionRatio)) }
        lines.append("input: \(c.inputEventsWritten) events from \(c.inputDevices) devices, \(c.inputDropped) dropped, \(c.inputSynDropped) SYN_DROPPED")
        lines.append("state: \(c.stateSamplesWritten) samples, \(c.stateDropped) dropped; X errors: \(c.xErrors)")
        if !stuckThreads.isEmpty { lines.append("threads that did not stop in time: \(stuckThreads.joined(separator: ", "))") }
        if let error { lines.append("error: \(error)") }
        return lines.joined(separator: "\n")
    }

    /// JSON with sorted keys, one line.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
