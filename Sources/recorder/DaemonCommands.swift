import ArgumentParser
import DaemonControl
import Foundation
import RecorderCore
import Recording

/// `recorder start --name NAME [--socket PATH] [session options]`: ask recorderd to start a session.
struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Ask recorderd to start recording into OUTPUT_DIR/NAME.h5.",
        discussion: "Options left at their defaults are not sent, so the daemon's config file supplies them."
    )

    @Option(help: "Session name: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot.")
    var name: String

    @Option(help: "Stop by itself after SECONDS (default: record until `recorder stop`).")
    var duration: Double?

    @OptionGroup var connection: DaemonConnectionArguments
    @OptionGroup var session: SessionOptionArguments

    func run() throws {
        let fields: [String: JSONValue]
        do {
            try SessionName.validate(name)
            _ = try session.makeOptions(output: "/dev/null", duration: duration)
            fields = try session.requestFields(duration: duration)
        } catch let error as ControlError {
            throw usage(error.message)
        } catch let error as RecorderError {
            throw usage(error.description)
        }
        let reply = try connection.send(.start(name: name, options: fields), command: "start")
        guard reply["ok"] == true else { throw connection.fail(reply, command: "start") }
        if connection.json {
            Console.out(reply.jsonText, raw: true)
        } else {
            var line = "recording '\(name)' to \(reply["file"]?.stringValue ?? "?")"
            if let width = reply["report"]?["width"]?.intValue, let height = reply["report"]?["height"]?.intValue {
                line += " (\(width)x\(height)"
                if let fps = reply["report"]?["fps"]?.intValue { line += " @ \(fps) fps" }
                line += ")"
            }
            Console.out(line)
        }
    }

    private func usage(_ message: String) -> ExitCode {
        Console.error("recorder start: \(message)")
        return ExitCode(ExitCodes.usage)
    }
}

/// `recorder stop [--socket PATH] [--json]`: end the running session; returns once the file is sealed.
struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "End the daemon's running session; returns once its file is sealed (exit 3: none running)."
    )

    @OptionGroup var connection: DaemonConnectionArguments

    func run() throws {
        let reply = try connection.send(.stop(name: nil), command: "stop")
        guard reply["ok"] == true else { throw connection.fail(reply, command: "stop") }
        if connection.json {
            Console.out(reply.jsonText, raw: true)
        } else {
            Console.out(DaemonReplyText.sessionLines(reply).joined(separator: "\n"))
        }
        if reply["clean_shutdown"] == false || reply["state"] == "failed" { throw ExitCode(ExitCodes.failure) }
    }
}

/// `recorder status [--socket PATH] [--json]`: what the daemon is doing (exit 3 when idle).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's running session (exit 3 when no session is running)."
    )

    @OptionGroup var connection: DaemonConnectionArguments

    func run() throws {
        let reply = try connection.send(.status, command: "status", timeoutSeconds: 10)
        guard reply["ok"] == true else { throw connection.fail(reply, command: "status") }
        let idle = reply["state"] == "idle"
        if connection.json {
            Console.out(reply.jsonText, raw: true)
        } else if idle {
            var lines = ["recorderd is idle; output directory \(reply["output_dir"]?.stringValue ?? "?")"
                + (reply["free_disk_bytes"]?.intValue.map { ", \(DaemonReplyText.bytes($0)) free" } ?? "")]
            if let last = reply["last_session"], last != .null {
                lines.append("last session:")
                lines += DaemonReplyText.sessionLines(last).map { "  " + $0 }
            }
            Console.out(lines.joined(separator: "\n"))
        } else {
            Console.out(DaemonReplyText.sessionLines(reply).joined(separator: "\n"))
        }
        if idle { throw ExitCode(ExitCodes.notRunning) }
    }
}

/// `recorder list [--socket PATH] [--json]`: the sessions in the daemon's output directory.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the session files in the daemon's output directory with their summaries."
    )

    @OptionGroup var connection: DaemonConnectionArguments

    func run() throws {
        let reply = try connection.send(.list, command: "list")
        guard reply["ok"] == true else { throw connection.fail(reply, command: "list") }
        if connection.json {
            Console.out(reply.jsonText, raw: true)
            return
        }
        let sessions = reply["sessions"]?.arrayValue ?? []
        Console.out("\(sessions.count) session(s) in \(reply["output_dir"]?.stringValue ?? "?")")
        for session in sessions {
            var line = "\(session["name"]?.stringValue ?? "?")  \(DaemonReplyText.bytes(session["size_bytes"]?.intValue ?? 0))  \(session["modified_utc"]?.stringValue ?? "")"
            if session["split"] == true {
                Console.out(line + "  " + DaemonReplyText.splitSummary(session))
                continue
            }
            if session["recording"] == true {
                line += "  (recording)"
            } else if let summary = session["summary"] {
                let frames = summary["frames"]?.intValue ?? 0
                let seconds = summary["duration_seconds"]?.doubleValue ?? 0
                line += String(format: "  %lld frames, %.1f s", frames, seconds)
                if let reason = summary["end_reason"]?.stringValue { line += ", ended: \(reason)" }
                if summary["clean_shutdown"] == false { line += " (not sealed cleanly)" }
            } else if let error = session["summary_error"]?.stringValue {
                line += "  unreadable: \(error)"
            }
            Console.out(line)
        }
        if let note = reply["note"]?.stringValue { Console.out("note: \(note)") }
    }
}

/// Human text for session fields of a daemon reply.
enum DaemonReplyText {
    static func sessionLines(_ reply: JSONValue) -> [String] {
        var lines: [String] = []
        let name = reply["name"]?.stringValue ?? "?"
        lines.append("session '\(name)': \(reply["state"]?.stringValue ?? "?")" + (reply["end_reason"]?.stringValue.map { " (\($0))" } ?? ""))
        lines.append("file: \(reply["file"]?.stringValue ?? "?")")
        if let error = reply["session_error"]?.stringValue ?? reply["error"]?.stringValue { lines.append("error: \(error)") }
        if let seconds = reply["duration_seconds"]?.doubleValue { lines.append(String(format: "duration: %.2f s", seconds)) }
        if let written = reply["frames_written"]?.intValue {
            lines.append("frames: \(written) written, \(reply["frames_dropped"]?.intValue ?? 0) dropped, \(reply["ticks_missed"]?.intValue ?? 0) ticks missed; \(reply["fps_last_second"]?.intValue ?? 0) fps over the last second")
            lines.append("input: \(reply["input_events"]?.intValue ?? 0) events from \(reply["input_devices"]?.intValue ?? 0) devices; state: \(reply["state_samples"]?.intValue ?? 0) samples")
            lines.append("written: \(bytes(reply["bytes_written"]?.intValue ?? 0))" + (reply["free_disk_bytes"]?.intValue.map { ", \(bytes($0)) free on disk" } ?? ""))
        }
        if let clean = reply["clean_shutdown"]?.boolValue { lines.append(clean ? "sealed cleanly" : "NOT sealed cleanly") }
        if let report = reply["report"] {
            if let parts = report["parts"]?.intValue {
                lines.append("parts: \(parts) (\(report["parts_sealed"]?.intValue ?? 0) sealed), now part \(report["part"]?.intValue ?? 0)")
            }
            if let uploads = report["uploads"] { lines.append("uploads: " + uploadCounts(uploads)) }
            if let disk = report["disk"] {
                var items: [String] = []
                if let free = disk["free_bytes"]?.intValue { items.append("\(bytes(free)) free" + (disk["min_free_bytes"]?.intValue.map { " (min_free \(bytes($0)))" } ?? "")) }
                if let quota = disk["quota_bytes"]?.intValue, let used = disk["quota_used_bytes"]?.intValue {
                    items.append("quota \(bytes(used)) of \(bytes(quota)) used, \(bytes(disk["quota_left_bytes"]?.intValue ?? 0)) left")
                }
                lines.append("disk: " + items.joined(separator: ", "))
            }
        }
        return lines
    }

    /// `3 uploaded, 1 failed` from an object of counts per upload state.
    static func uploadCounts(_ counts: JSONValue) -> String {
        var values: [String: Int] = [:]
        for state in SessionReport.uploadStates { if let count = counts[state]?.intValue { values[state] = Int(count) } }
        return SessionReport.describe(values)
    }

    /// One line for a split session of `list`: parts, sealed, uploads, or the manifest's error.
    static func splitSummary(_ session: JSONValue) -> String {
        if let error = session["manifest_error"]?.stringValue { return "bad manifest: \(error)" }
        var text = "\(session["part_count"]?.intValue ?? 0) parts, \(session["parts_sealed"]?.intValue ?? 0) sealed"
        if session["recording"] == true { text += " (recording)" } else if let reason = session["end_reason"]?.stringValue { text += ", ended: \(reason)" }
        if let uploads = session["uploads"], uploads != [:] { text += "; uploads: " + uploadCounts(uploads) }
        return text
    }

    static func bytes(_ count: Int64) -> String {
        let value = Double(count)
        if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
        if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
        return "\(count) B"
    }
}
