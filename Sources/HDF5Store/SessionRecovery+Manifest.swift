import Foundation
import RecorderCore

extension SessionRecovery {
    /// After `recover` repaired (or found sealed) a part of a split session, brings the manifest beside
    /// it up to date: the part's row gets its ticks, counts, size and state ("recovered" when it was
    /// repaired), rows the killed session never announced are added from their files, and the
    /// session's state becomes "recovered".
    ///
    /// - Returns: the manifest's path, or nil when `path` is not a part file or no manifest is beside it.
    /// - Throws: when the manifest is not one (bounded read, checked fields) or belongs to another session.
    public static func updateManifest(afterRecovering path: String, report: RecoveryReport) throws(RecorderError) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        guard let parsed = SessionManifest.parsePartFileName((path as NSString).lastPathComponent) else { return nil }
        let manifestFile = SessionManifest.manifestFileName(session: parsed.session)
        let manifestPath = folder.isEmpty ? manifestFile : (folder as NSString).appendingPathComponent(manifestFile)
        guard FileManager.default.fileExists(atPath: manifestPath) else { return nil }
        var manifest = try SessionManifest.read(from: manifestPath)
        let summary = try SessionInspector.inspect(path: path)
        guard summary.sessionID == manifest.sessionID else {
            throw .storage("\(TerminalText.escaped(path)) carries session_id '\(TerminalText.escaped(summary.sessionID ?? ""))', "
                + "not the manifest's '\(TerminalText.escaped(manifest.sessionID))'; the manifest was left as it is")
        }
        guard manifest.name == parsed.session, parsed.number <= manifest.parts.count + 64 else {
            throw .storage("\(TerminalText.escaped(manifestPath)) does not describe part \(parsed.number) of \(TerminalText.escaped(parsed.session)); left as it is")
        }
        // Parts between the manifest's last row and this one: announced to a keeper that died first.
        while manifest.parts.count < parsed.number - 1 {
            let number = manifest.parts.count + 1
            let file = SessionManifest.partFileName(session: parsed.session, number: number)
            let between = (folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file))
            if let found = try? SessionInspector.inspect(path: between), found.sessionID == manifest.sessionID {
                manifest.parts.append(row(found, number: number, file: file, state: found.cleanShutdown ? "sealed" : "recording"))
            } else {
                manifest.parts.append(SessionManifest.Part(number: number, file: file, state: "missing", previousPartLastTick: -1))
            }
        }
        let state = report.wasClean && summary.endReason != EndReason.recovered.rawValue ? "sealed" : "recovered"
        let updated = row(summary, number: parsed.number, file: (path as NSString).lastPathComponent, state: state)
        if parsed.number <= manifest.parts.count {
            var kept = updated
            kept.upload = manifest.parts[parsed.number - 1].upload
            manifest.parts[parsed.number - 1] = kept
        } else {
            manifest.parts.append(updated)
        }
        if state == "recovered" || manifest.state == "recording" {
            manifest.state = "recovered"
            manifest.endReason = manifest.endReason ?? EndReason.recovered.rawValue
        }
        try manifest.check(source: manifestPath)
        try manifest.write(to: manifestPath)
        return manifestPath
    }

    /// The manifest row a part file describes.
    private static func row(_ summary: SessionSummary, number: Int, file: String, state: String) -> SessionManifest.Part {
        SessionManifest.Part(
            number: number, file: file, state: state, firstTick: summary.firstTick, lastTick: summary.lastTick,
            previousPartLastTick: summary.previousPartLastTick ?? -1, firstTimestampNs: summary.firstTimestampNs,
            lastTimestampNs: summary.lastTimestampNs, frames: summary.frames, events: summary.inputEvents,
            samples: summary.stateSamples, bytes: summary.fileBytes)
    }
}
