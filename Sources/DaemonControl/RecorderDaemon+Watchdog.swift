import Logging
import RecorderCore

extension RecorderDaemon {
    /// The body of "rec-watchdog": WATCHDOG=1 every WATCHDOG_USEC/2 while every thread makes progress,
    /// and a STATUS= line whenever the one-line status changes (at most once a second).
    func runWatchdog(_ notifier: SystemdNotifier) {
        let interval = notifier.watchdogInterval
        // A heartbeat that has not moved for this long marks its thread as stuck.
        let stallLimit = max(3_000_000_000, interval ?? 0)
        let turn = min(interval ?? 250_000_000, 250_000_000)
        var progress: [String: (value: Int64, changedAt: Int64)] = [:]
        var lastPing: Int64 = 0
        var lastStatus = ""
        var lastStatusAt: Int64 = 0
        var reportedStall: [String] = []
        while !watchdogStop.load(ordering: .acquiring) {
            let seen = watchdogBell.sequence
            let now = MonotonicClock.now()
            let active = state.withLock { $0.active }
            var beats: [String: Int64] = [:]
            if let server = server.withLock({ $0 }) {
                beats[ControlServer.threadName] = server.heartbeat.load(ordering: .relaxed)
            }
            var sessionStatus: SessionProgress?
            if let active {
                let status = active.host.progress()
                sessionStatus = status
                // Only a session in full flight must show every thread moving; starting and sealing have their own timeouts.
                if status.state == "recording" && !active.host.isStopping {
                    for (name, value) in active.host.heartbeats() { beats[name] = value }
                }
            }
            var updated: [String: (value: Int64, changedAt: Int64)] = [:]
            for (name, value) in beats {
                if let previous = progress[name], previous.value == value {
                    updated[name] = previous
                } else {
                    updated[name] = (value, now)
                }
            }
            progress = updated
            let stalled = progress.filter { now - $0.value.changedAt > stallLimit }.keys.sorted()
            if stalled.isEmpty {
                if !reportedStall.isEmpty { logger.info("every thread is making progress again") }
                reportedStall = []
                if let interval, now - lastPing >= interval {
                    notifier.notify("WATCHDOG=1")
                    lastPing = now
                }
            } else if stalled != reportedStall {
                logger.error("threads are not making progress; withholding the systemd watchdog ping", metadata: ["threads": "\(stalled.joined(separator: ","))"])
                reportedStall = stalled
            }
            let text: String
            if let active, let status = sessionStatus {
                text = "\(status.state) \(active.name): \(status.framesWritten) frames, \(status.framesDropped) dropped"
            } else {
                text = "idle; listening on \(socketPath)"
            }
            if text != lastStatus && now - lastStatusAt >= 1_000_000_000 {
                notifier.notify("STATUS=\(text)")
                lastStatus = text
                lastStatusAt = now
            }
            watchdogBell.wait(seen: seen, timeoutNanoseconds: turn)
        }
    }
}
