import Foundation
import RecorderCore

extension SessionManifest {
    /// What `recorder inspect NAME.manifest.json` prints for a person: the session, then one line per part.
    var humanDescription: String {
        let frames = parts.reduce(Int64(0)) { $0 + $1.frames }
        let events = parts.reduce(Int64(0)) { $0 + $1.events }
        let samples = parts.reduce(Int64(0)) { $0 + $1.samples }
        let bytes = parts.reduce(Int64(0)) { $0 + $1.bytes }
        var limits: [String] = []
        if let every = split.everySeconds { limits.append("every \(every) s") }
        if let size = split.sizeBytes { limits.append("at \(ByteSize.describe(size))") }
        var lines = [
            "session: \(name) (\(sessionID)), started \(startedAtUTC), split \(limits.joined(separator: " or "))",
            "state: \(state)" + (endReason.map { ", ended \($0)" } ?? "") + (endDetail.map { " (\($0))" } ?? ""),
            "parts: \(parts.count), \(frames) frames, \(events) input events, \(samples) state samples, \(ByteSize.describe(bytes))",
        ]
        for part in parts {
            let ticks = part.firstTick.map { first in "ticks \(first)...\(part.lastTick.map(String.init) ?? "?")" } ?? "no frames"
            var line = "  \(part.file): \(part.state), \(ticks), \(part.frames) frames, \(part.events) events, \(part.samples) samples, \(ByteSize.describe(part.bytes))"
            if let upload = part.upload { line += ", upload \(upload.state)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
