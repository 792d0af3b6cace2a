#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore

extension SessionDirectory {
    /// At most this many manifests are read per `list` (each read is bounded by `SessionManifest.maxBytes`).
    static let maxManifests = 256

    /// One split session: its manifest as read, or why it could not be.
    struct SplitSession: Sendable {
        let name: String
        let path: String
        let modified: Int64
        let manifest: Result<SessionManifest, RecorderError>
    }

    /// Every regular `NAME.manifest.json` in `directory`, sorted by name, read as hostile input.
    static func splitSessions(in directory: String) -> (sessions: [SplitSession], leftOut: Int) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return ([], 0) }
        let suffix = ".manifest.json"
        let candidates = names.filter { $0.hasSuffix(suffix) && $0.count > suffix.count }.sorted()
        var sessions: [SplitSession] = []
        for file in candidates.prefix(maxManifests) {
            let path = directory + "/" + file
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            let modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            let name = String(file.dropLast(suffix.count))
            let manifest: Result<SessionManifest, RecorderError>
            do {
                let read = try SessionManifest.read(from: path)
                manifest = read.name == name ? .success(read)
                    : .failure(.storage("\(TerminalText.escaped(path)) names the session '\(TerminalText.escaped(read.name))'"))
            } catch {
                manifest = .failure(error)
            }
            sessions.append(SplitSession(name: name, path: path, modified: modified, manifest: manifest))
        }
        return (sessions, max(0, candidates.count - maxManifests))
    }

    /// The `list` entry of a split session: parts, sealed count, upload states, bytes.
    static func listEntry(_ session: SplitSession, directory: String, recording: Bool) -> JSONValue {
        var item: [String: JSONValue] = [
            "name": .string(session.name), "file": .string(session.path), "manifest": .string(session.path),
            "modified_utc": .string(utcText(session.modified)), "recording": .bool(recording), "split": true,
        ]
        switch session.manifest {
        case .failure(let error):
            item["manifest_error"] = .string(error.description)
            item["size_bytes"] = 0
        case .success(let manifest):
            var bytes: Int64 = 0
            var parts: [JSONValue] = []
            for part in manifest.parts {
                var status = stat()
                let path = directory + "/" + part.file
                let present = lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
                let size = present ? Int64(status.st_size) : 0
                bytes += size
                var row: [String: JSONValue] = [
                    "number": .int(Int64(part.number)), "file": .string(path), "state": .string(part.state),
                    "frames": .int(part.frames), "size_bytes": .int(size), "present": .bool(present),
                ]
                if let upload = part.upload {
                    var fields: [String: JSONValue] = ["state": .string(upload.state), "attempts": .int(Int64(upload.attempts))]
                    if let error = upload.lastError { fields["last_error"] = .string(error) }
                    if let finished = upload.finishedAtUTC { fields["finished_at_utc"] = .string(finished) }
                    if upload.deleted == true { fields["deleted"] = true }
                    row["upload"] = .object(fields)
                }
                parts.append(.object(row))
            }
            item["size_bytes"] = .int(bytes)
            item["session_id"] = .string(manifest.sessionID)
            item["state"] = .string(manifest.state)
            if let reason = manifest.endReason { item["end_reason"] = .string(reason) }
            item["parts"] = .array(parts)
            item["part_count"] = .int(Int64(manifest.parts.count))
            item["parts_sealed"] = .int(Int64(manifest.closedPartCount))
            item["uploads"] = .object(manifest.uploadCounts.mapValues { .int(Int64($0)) })
        }
        return .object(item)
    }

    /// True when `entry` is a part file of one of the manifests read.
    static func isPart(_ entry: Entry, of sessions: [SplitSession]) -> Bool {
        guard let parsed = SessionManifest.parsePartFileName(entry.name + ".h5") else { return false }
        return sessions.contains { session in
            guard case .success(let manifest) = session.manifest, manifest.name == parsed.session else { return false }
            return manifest.parts.contains { $0.number == parsed.number }
        }
    }
}
