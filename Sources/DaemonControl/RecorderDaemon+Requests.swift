#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import RecorderCore

extension RecorderDaemon {
    /// Answers one request line; runs on the control thread. Every path ends in exactly one reply,
    /// now or (for start and stop) once the session thread has something to say.
    func handleLine(_ line: [UInt8], from client: ControlServer.ClientID, peer: UnixSocket.PeerCredentials?) {
        do {
            switch try ControlRequest.parse(line) {
            case .start(let name, let options): try startSession(name: name, fields: options, client: client)
            case .stop(let name): try stopSession(name: name, client: client)
            case .status: reply(statusReply(), to: client)
            case .list: reply(listReply(), to: client)
            }
        } catch {
            logger.debug("refused a request", metadata: ["client": "\(client)", "error": "\(error.message)", "uid": "\(peer?.uid ?? 0)"])
            reply(error.reply, to: client)
        }
    }

    private func startSession(name: String, fields: [String: JSONValue], client: ControlServer.ClientID) throws(ControlError) {
        let (configuration, active, shuttingDown) = state.withLock { ($0.configuration, $0.active, $0.shuttingDown) }
        if shuttingDown { throw ControlError(.shuttingDown, "recorderd is shutting down and starts no new session") }
        if let active {
            throw ControlError(.busy, "session '\(active.name)' is already running (file \(active.file)); stop it before starting '\(name)'")
        }
        var options = configuration.sessionDefaults
        for key in fields.keys.sorted() {
            try SessionOptionFields.apply(key, fields[key] ?? .null, to: &options, baseDirectory: nil)
        }
        let directory = outputDirectory(for: configuration)
        options.output = directory + "/" + name + ".h5"
        do { try options.validate() } catch { throw .badRequest(error.description) }
        var status = stat()
        if lstat(options.output, &status) == 0 {
            throw ControlError(.exists, "session '\(name)' already exists as \(options.output); choose another name (recordings are never overwritten)")
        }
        if let existing = SessionManifest.existingPaths(output: options.output).first {
            throw ControlError(.exists, "session '\(name)' already exists as \(existing); choose another name (recordings are never overwritten)")
        }
        do { try Self.createDirectory(directory) } catch { throw ControlError(.startFailed, error.description) }

        let host = hooks.makeSession(options)
        let session = ActiveSession(name: name, file: options.output, host: host)
        // Checked again in the same lock that publishes the session: a shutdown that began since the
        // first check either sees this session (and stops and waits for it) or refuses it here.
        try state.withLock { state throws(ControlError) in
            if state.shuttingDown { throw ControlError(.shuttingDown, "recorderd is shutting down and starts no new session") }
            if let active = state.active { throw ControlError(.busy, "session '\(active.name)' is already running; stop it before starting '\(name)'") }
            state.active = session
        }
        // The previous session thread has cleared `active` already; this only reaps it.
        if let previous = sessionThread.withLock({ $0 }), !previous.join(timeoutNanoseconds: settings.threadStopTimeoutNanoseconds) {
            logger.error("previous session thread did not finish", metadata: ["thread": "\(previous.name)"])
        }
        do {
            let thread = try NamedThread.spawn(name: "rec-session") { [self] in runSession(session, starter: client) }
            sessionThread.withLock { $0 = thread }
        } catch {
            state.withLock { $0.active = nil }
            throw ControlError(.startFailed, "cannot start the session thread: \(error)")
        }
        logger.info("starting session", metadata: ["session": "\(name)", "file": "\(options.output)"])
    }

    /// The body of "rec-session": start, reply, wait for the end, reply to every `stop`.
    private func runSession(_ session: ActiveSession, starter: ControlServer.ClientID) {
        do {
            try session.host.start()
        } catch {
            logger.error("session could not start", metadata: ["session": "\(session.name)", "error": "\(error)"])
            let message = "session '\(session.name)' could not start: \(error.description)"
            let waiters = finish(session, record: ["name": .string(session.name), "file": .string(session.file), "state": "failed", "error": .string(message)])
            reply(ControlError(.startFailed, message).reply, to: starter)
            for waiter in waiters {
                reply(["ok": true, "name": .string(session.name), "file": .string(session.file), "state": "failed", "session_error": .string(message)], to: waiter)
            }
            return
        }
        var started = session.host.progress().jsonFields
        started["ok"] = true
        started["name"] = .string(session.name)
        reply(.object(started), to: starter)
        logger.info("session recording", metadata: ["session": "\(session.name)"])

        let final = session.host.waitForEnd()
        var fields = final.jsonFields
        fields["name"] = .string(session.name)
        let waiters = finish(session, record: .object(fields))
        fields["ok"] = true
        for waiter in waiters { reply(.object(fields), to: waiter) }
        logger.info("session ended", metadata: [
            "session": "\(session.name)", "reason": "\(final.endReason ?? "?")", "frames": "\(final.framesWritten)",
            "clean": "\(final.cleanShutdown.map(String.init) ?? "?")",
        ])
    }

    /// Clears the active session and returns who waits for its end.
    private func finish(_ session: ActiveSession, record: JSONValue) -> [ControlServer.ClientID] {
        let waiters = state.withLock { state -> [ControlServer.ClientID] in
            let waiters = state.active?.stopWaiters ?? []
            state.active = nil
            state.lastSession = record
            return waiters
        }
        _ = summaries.withLock { $0.removeValue(forKey: session.file) }
        return waiters
    }

    private func stopSession(name: String?, client: ControlServer.ClientID) throws(ControlError) {
        let host = try state.withLock { state throws(ControlError) -> any SessionHost in
            guard let active = state.active else {
                throw ControlError(.notRunning, "no session is running")
            }
            if let name, name != active.name {
                throw ControlError(.notRunning, "session '\(name)' is not running; the running session is '\(active.name)'")
            }
            state.active?.stopWaiters.append(client)
            return active.host
        }
        // The reply follows once the file is sealed (see runSession).
        host.stop(.stopped, detail: "stop request")
    }

    func statusReply() -> JSONValue {
        let (active, last, configuration) = state.withLock { ($0.active, $0.lastSession, $0.configuration) }
        let directory = outputDirectory(for: configuration)
        guard let active else {
            return [
                "ok": true, "state": "idle", "socket": .string(socketPath), "output_dir": .string(directory),
                "free_disk_bytes": .optional(SessionDirectory.freeBytes(at: directory)), "last_session": last ?? .null,
            ]
        }
        var fields = active.host.progress().jsonFields
        fields["ok"] = true
        fields["name"] = .string(active.name)
        fields["output_dir"] = .string(directory)
        fields["socket"] = .string(socketPath)
        return .object(fields)
    }

    /// How long one `list` spends making new summaries (each file's tool has its own deadline).
    public static let listInspectionBudgetNs: Int64 = 3_000_000_000

    func listReply() -> JSONValue {
        let (active, configuration) = state.withLock { ($0.active, $0.configuration) }
        let directory = outputDirectory(for: configuration)
        // Inspecting costs CPU and disk the recording needs: while a session runs, only summaries
        // computed earlier are shown.
        let mayInspect = active == nil
        // The control thread answers every client: new summaries stop after a budget, later files are
        // listed without one (the next `list` continues where this one stopped).
        let inspectUntil = MonotonicClock.now() + Self.listInspectionBudgetNs
        var leftOut = 0
        var sessions: [JSONValue] = []
        // Split sessions are listed once, from their manifests, with their parts under them.
        let split = SessionDirectory.splitSessions(in: directory)
        let activeManifest = active.map { SessionManifest.manifestPath(output: $0.file) }
        for session in split.sessions {
            sessions.append(SessionDirectory.listEntry(session, directory: directory, recording: session.path == activeManifest))
        }
        for entry in SessionDirectory.sessionFiles(in: directory) where !SessionDirectory.isPart(entry, of: split.sessions) {
            var item: [String: JSONValue] = [
                "name": .string(entry.name), "file": .string(entry.path), "size_bytes": .int(entry.size),
                "modified_utc": .string(SessionDirectory.utcText(entry.modified)),
                "recording": .bool(entry.path == active?.file),
            ]
            let inspectNow = mayInspect && MonotonicClock.now() < inspectUntil
            if entry.path != active?.file {
                switch summary(of: entry, mayInspect: inspectNow) {
                case .success(let value): item["summary"] = value
                case .failure(let error): item["summary_error"] = .string(error.message)
                case nil: if mayInspect && hooks.summarize != nil { leftOut += 1 }
                }
            }
            sessions.append(.object(item))
        }
        var reply: [String: JSONValue] = ["ok": true, "output_dir": .string(directory), "sessions": .array(sessions)]
        if split.leftOut > 0 {
            reply["manifests_left_out"] = .int(Int64(split.leftOut))
        }
        if hooks.summarize != nil && !mayInspect {
            reply["note"] = "summaries of files not inspected before this session started are left out while it records"
        } else if hooks.summarize != nil && leftOut > 0 {
            reply["note"] = .string("summaries of \(leftOut) files not inspected yet are left out; list again for more")
        }
        return .object(reply)
    }

    private func summary(of entry: SessionDirectory.Entry, mayInspect: Bool) -> Result<JSONValue, ControlError>? {
        guard let summarize = hooks.summarize else { return nil }
        if let cached = summaries.withLock({ $0[entry.path] }), cached.size == entry.size, cached.modified == entry.modified {
            return cached.summary
        }
        guard mayInspect else { return nil }
        let result: Result<JSONValue, ControlError>
        do {
            result = .success(try summarize(entry.path))
        } catch {
            result = .failure(ControlError(.failed, "cannot read \(entry.path): \(error)"))
        }
        summaries.withLock { $0[entry.path] = CachedSummary(size: entry.size, modified: entry.modified, summary: result) }
        return result
    }
}
