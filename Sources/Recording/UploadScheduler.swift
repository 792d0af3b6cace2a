import Foundation
import Logging
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the `on_part_sealed` hook for each sealed part: a bounded queue, at most
/// `hook.concurrency` children at a time, a timeout per attempt and retries with exponential backoff.
///
/// Not a thread: its owner calls `submit`, `poll` and `drain` from one thread (the part keeper's,
/// `rec-parts`), and each returns the manifest changes it made, so a hook that fails, floods its
/// output or hangs costs that thread a poll, never the recording threads. Children run without a
/// shell in their own session; a timeout sends SIGTERM to the child's process group, then SIGKILL
/// after `UploadHook.killGraceSeconds`. Every child is reaped, at the latest by `drain`.
public final class UploadScheduler {
    /// A part's new upload state, for its manifest row.
    public struct Change: Sendable, Equatable {
        public var part: Int
        public var upload: SessionManifest.Upload
    }

    /// What the placeholders of a part are made from.
    public struct Session: Sendable, Equatable {
        /// The folder of the parts and the manifest (absolute).
        public var folder: String
        public var name: String
        public var sessionID: String

        public init(folder: String, name: String, sessionID: String) {
            self.folder = folder
            self.name = name
            self.sessionID = sessionID
        }
    }

    private struct Job {
        var part: Int
        var file: String
        var upload: SessionManifest.Upload
        /// CLOCK_MONOTONIC ns before which the next attempt may not start.
        var notBefore: Int64 = 0
        var child: ChildProcess?
        var startedAt: Int64 = 0
        var terminatedAt: Int64?
        var killed = false
    }

    public let hook: UploadHook
    public let session: Session
    private let logger: Logger
    /// Posts a note for the session (`/log/notes` of the part being written); kind, message.
    private let note: (String, String) -> Void
    /// Parts waiting, retrying or running, in the order they were sealed.
    private var jobs: [Job] = []

    public init(hook: UploadHook, session: Session, logger: Logger, note: @escaping (String, String) -> Void = { _, _ in }) {
        self.hook = hook
        self.session = session
        self.logger = logger
        self.note = note
    }

    deinit {
        for job in jobs { job.child?.kill() }
    }

    /// Parts not finished yet (queued, retrying or running).
    public var pendingCount: Int { jobs.count }
    /// Children running now.
    public var runningCount: Int { jobs.count(where: { $0.child != nil }) }

    /// Queues `part` ("queued"), or marks it "skipped" when `UploadHook.queueCapacity` parts wait already.
    public func submit(_ part: SessionManifest.Part) -> Change {
        guard jobs.count < UploadHook.queueCapacity else {
            let message = "upload queue full (\(UploadHook.queueCapacity) parts waiting); part \(part.number) is not uploaded"
            logger.warning("\(message)", metadata: ["part": "\(part.file)"])
            note("upload-skipped", message)
            return Change(part: part.number, upload: SessionManifest.Upload(state: "skipped", lastError: message))
        }
        let job = Job(part: part.number, file: part.file, upload: SessionManifest.Upload(state: "queued"))
        jobs.append(job)
        return Change(part: part.number, upload: job.upload)
    }

    /// Collects finished children, enforces timeouts, starts due attempts. Never blocks.
    public func poll(now: Int64) -> [Change] {
        var changes: [Change] = []
        for index in jobs.indices where jobs[index].child != nil {
            if let change = advance(index, now: now) { changes.append(change) }
        }
        var running = runningCount
        for index in jobs.indices where running < hook.concurrency && jobs[index].child == nil
            && Self.isWaiting(jobs[index].upload.state) && jobs[index].notBefore <= now {
            changes.append(start(index, now: now))
            if jobs[index].child != nil { running += 1 }
        }
        jobs.removeAll { !Self.isWaiting($0.upload.state) && $0.upload.state != "running" }
        return changes
    }

    /// The session has ended: keeps polling until every part is done or `deadline` (CLOCK_MONOTONIC
    /// ns) passes, then kills what still runs and leaves the rest as not uploaded, with the reason.
    public func drain(deadline: Int64) -> [Change] {
        var changes: [Change] = []
        while !jobs.isEmpty {
            let now = MonotonicClock.now()
            if now >= deadline { break }
            changes += poll(now: now)
            if jobs.isEmpty { break }
            let waitMs = Int32(max(1, min(50, (deadline - MonotonicClock.now()) / 1_000_000)))
            if let child = jobs.first(where: { $0.child != nil })?.child {
                child.pumpOutput(waitMilliseconds: waitMs)
            } else {
                usleep(UInt32(waitMs) * 1000)
            }
        }
        for var job in jobs {
            if let child = job.child {
                child.kill()
                child.closeOutput()
                job.upload.state = "failed"
                job.upload.lastError = Self.bounded("the session ended while attempt \(job.upload.attempts) ran; killed at the end-of-session deadline")
            } else if job.upload.attempts == 0 {
                job.upload.lastError = "the session ended before the upload ran; not uploaded"
            } else {
                job.upload.state = "failed"
                job.upload.lastError = Self.bounded("the session ended before attempt \(job.upload.attempts + 1); last: \(job.upload.lastError ?? "?")")
            }
            logger.warning("part not uploaded: \(job.upload.lastError ?? "")", metadata: ["part": "\(job.file)"])
            changes.append(Change(part: job.part, upload: job.upload))
        }
        jobs.removeAll()
        return changes
    }

    // MARK: Attempts

    private static func isWaiting(_ state: String) -> Bool { state == "queued" || state == "retrying" }

    private func start(_ index: Int, now: Int64) -> Change {
        jobs[index].upload.attempts += 1
        let placeholders = UploadHook.Placeholders(
            path: (session.folder as NSString).appendingPathComponent(jobs[index].file), session: session.name,
            sessionID: session.sessionID, part: jobs[index].part,
            manifest: (session.folder as NSString).appendingPathComponent(SessionManifest.manifestFileName(session: session.name)))
        do {
            let child = try ChildProcess.spawn(hook.arguments(for: placeholders), options: ChildProcess.Options(
                newSession: true, mergeOutput: true, outputLimit: UploadHook.outputLimit, keep: .tail))
            jobs[index].child = child
            jobs[index].startedAt = now
            jobs[index].terminatedAt = nil
            jobs[index].killed = false
            jobs[index].upload.state = "running"
            logger.info("upload attempt \(jobs[index].upload.attempts) started (pid \(child.pid))", metadata: ["part": "\(jobs[index].file)"])
        } catch {
            attemptFailed(index, reason: error.description, now: now)
        }
        return Change(part: jobs[index].part, upload: jobs[index].upload)
    }

    /// Reads a running child's output, collects it when it ended, signals it past its timeout.
    private func advance(_ index: Int, now: Int64) -> Change? {
        guard let child = jobs[index].child else { return nil }
        child.pumpOutput(waitMilliseconds: 0)
        if let termination = child.reap() {
            child.pumpOutput(waitMilliseconds: 0)
            child.closeOutput()
            jobs[index].child = nil
            if termination == .exited(0) && jobs[index].terminatedAt == nil {
                jobs[index].upload.state = "uploaded"
                jobs[index].upload.lastError = nil
                jobs[index].upload.finishedAtUTC = MonotonicClock.iso8601(utcNs: MonotonicClock.wallNow())
                logger.info("part uploaded (attempt \(jobs[index].upload.attempts))", metadata: ["part": "\(jobs[index].file)"])
            } else {
                let what = jobs[index].terminatedAt != nil
                    ? "timed out after \(hook.timeoutSeconds) s (\(termination))" : termination.description
                let output = child.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
                attemptFailed(index, reason: output.isEmpty ? what : "\(what): \(output)", now: now)
            }
            return Change(part: jobs[index].part, upload: jobs[index].upload)
        }
        if jobs[index].terminatedAt == nil, now - jobs[index].startedAt >= Int64(hook.timeoutSeconds * 1e9) {
            logger.warning("upload attempt \(jobs[index].upload.attempts) timed out after \(hook.timeoutSeconds) s; SIGTERM to its process group",
                           metadata: ["part": "\(jobs[index].file)"])
            child.signal(SIGTERM)
            jobs[index].terminatedAt = now
        } else if let terminated = jobs[index].terminatedAt, !jobs[index].killed,
                  now - terminated >= Int64(UploadHook.killGraceSeconds * 1e9) {
            logger.warning("upload attempt ignored SIGTERM; SIGKILL to its process group", metadata: ["part": "\(jobs[index].file)"])
            child.signal(SIGKILL)
            jobs[index].killed = true
        }
        return nil
    }

    private func attemptFailed(_ index: Int, reason: String, now: Int64) {
        let attempts = jobs[index].upload.attempts
        jobs[index].upload.lastError = Self.bounded("attempt \(attempts): \(reason)")
        if attempts >= hook.attempts {
            jobs[index].upload.state = "failed"
            jobs[index].upload.finishedAtUTC = MonotonicClock.iso8601(utcNs: MonotonicClock.wallNow())
            logger.error("upload failed after \(attempts) attempts: \(reason)", metadata: ["part": "\(jobs[index].file)"])
            note("upload-failed", "part \(jobs[index].part) (\(jobs[index].file)) not uploaded after \(attempts) attempts: \(Self.bounded(reason, limit: 300))")
        } else {
            let delay = hook.backoff(afterAttempt: attempts)
            jobs[index].upload.state = "retrying"
            jobs[index].notBefore = now + Int64(delay * 1e9)
            logger.warning("upload attempt \(attempts) failed, retry in \(delay) s: \(reason)", metadata: ["part": "\(jobs[index].file)"])
        }
    }

    /// `text` cut to its last `limit` bytes' worth of characters (the end of an error says the most).
    static func bounded(_ text: String, limit: Int = UploadHook.outputLimit + 256) -> String {
        text.utf8.count <= limit ? text : "…" + String(text.suffix(limit))
    }
}
