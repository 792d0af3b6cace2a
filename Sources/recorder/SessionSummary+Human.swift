import Foundation
import HDF5Store

extension SessionSummary {
    /// What `recorder inspect` prints for a person: one fact per line.
    var humanDescription: String {
        var lines = [
            "file: \(path) (\(String(format: "%.1f", Double(fileBytes) / 1e6)) MB, format \(format) v\(formatVersion), recorder \(recorderVersion))",
            "started: \(startedAtUTC), \(String(format: "%.2f", durationSeconds)) s",
            "ended: " + (live ? "still recording (or killed: run `recorder recover`)" : endReason + (endDetail.isEmpty ? "" : " (\(endDetail))"))
                + (cleanShutdown ? ", sealed cleanly" : ", not sealed cleanly"),
            "video: \(width)x\(height) @ \(fps) fps, target \(target), codec \(codec) level \(compressionLevel), keyframe interval \(keyframeInterval) (\(referencePolicy))",
            "frames: \(frames) (\(keyframes) whole" + (shiftedFrames > 0 ? ", \(shiftedFrames) against a shifted reference" : "")
                + (fastFrames + unfilteredFrames > 0 ? ", \(fastFrames) compressed fast and \(unfilteredFrames) unfiltered while behind" : "") + "), \(droppedTicks) dropped ticks, compression \(String(format: "%.1f", compressionRatio))x (\(String(format: "%.1f", Double(rawFrameBytes) / 1e6)) MB raw -> \(String(format: "%.1f", Double(storedFrameBytes) / 1e6)) MB)",
            "input: \(inputEvents) events from \(devices.count) devices" + (devices.isEmpty ? "" : ": " + devices.joined(separator: ", ")),
            "state: \(stateSamples) samples of \(stateFields.joined(separator: ", ")); \(windowChanges) focused-window changes",
            "notes: \(notes)",
        ]
        if let partNumber {
            var line = "part: \(partNumber) of session \(sessionID ?? "?"), previous part's last tick \(previousPartLastTick ?? -1)"
            if let firstTick, let lastTick { line += ", ticks \(firstTick)...\(lastTick)" }
            if partFinal == true { line += ", the session's last part" }
            lines.insert(line, at: 2)
        }
        for device in inputDevices {
            var line = "  device \(device.id) '\(device.name)': \(device.kind), clock \(device.clockSource.isEmpty ? "unknown" : device.clockSource), \(device.events) events"
            if !device.axes.isEmpty {
                line += ", axes " + device.axes.map { "0x" + String($0.code, radix: 16) + " [\($0.min), \($0.max)]" }.joined(separator: " ")
            }
            lines.insert(line, at: lines.firstIndex { $0.hasPrefix("state:") } ?? lines.count)
        }
        if !meta.isEmpty {
            lines.append("meta: " + meta.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
