#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import Foundation
import HDF5Store
import Logging
import RecorderCore
import Recording

/// Wires the real sessions and the HDF5 inspector and recovery into DaemonControl's daemon, and signals into it.
enum DaemonMain {
    /// EX_CONFIG from sysexits.h (ArgumentParser exits with EX_USAGE for a bad command line).
    static let configExit: Int32 = 78

    /// Runs the daemon until SIGTERM/SIGINT; returns the process's exit status.
    static func run(arguments: DaemonArguments) -> Int32 {
        // Before any thread exists, so every thread inherits the mask and only rec-signals takes them.
        SignalWatcher.blockSignals()
        signal(SIGPIPE, SIG_IGN)
        RecorderLogHandler.bootstrap()
        let logger = Logger(label: "recorderd")

        let daemon: RecorderDaemon
        do {
            daemon = try RecorderDaemon(settings: RecorderDaemon.Settings(arguments: arguments), hooks: hooks(logger: logger), logger: logger)
        } catch {
            logger.critical("cannot read the configuration", metadata: ["error": "\(error)"])
            return configExit
        }
        let watcher = SignalWatcher()
        do {
            try watcher.start { signal in daemon.handle(signal: signal) }
            try daemon.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            watcher.stop()
            return 1
        }
        let clean = daemon.run()
        watcher.stop()
        return clean ? 0 : 1
    }

    /// Seconds a `list` waits for one file's summary; the tool's own deadline comes first.
    static let inspectSeconds = 6.0
    /// Seconds start-up recovery grants one file (a multi-GB file recovers in seconds).
    static let recoverSeconds = 120.0

    /// The daemon never opens a file of the output directory it did not just write: inspection and
    /// recovery run in `recorder` child processes with deadlines (FileToolRunner), so a damaged or
    /// crafted file costs at most that child.
    static func hooks(logger: Logger) -> DaemonHooks {
        let tools = FileToolRunner.besideExecutable()
        return DaemonHooks(
            makeSession: { options in RecordingSessionHost(options: options, logger: logger) },
            summarize: { path in
                let outcome = tools.run(["inspect", "--json", "--timeout", String(inspectSeconds - 1), path], seconds: inspectSeconds)
                guard outcome.status == 0 else { throw DamagedFile(message: "damaged or unreadable: \(outcome.failure)") }
                // The child prints the summary as `inspect --json` does; the reply names its fields like every other.
                return try JSONValue.encoding(JSONDecoder().decode(SessionSummary.self, from: Data(outcome.stdout)))
            },
            recover: { path in
                if SessionRecovery.isLive(path: path) { throw DamagedFile(message: "left alone: a running recorder is writing it") }
                let outcome = tools.run(["recover", "--json", "--timeout", String(recoverSeconds - 5), path], seconds: recoverSeconds)
                if outcome.status == 0, let report = try? JSONDecoder().decode(RecoveryReport.self, from: Data(outcome.stdout)) {
                    guard !report.wasClean else { return nil }
                    return "frames \(report.framesBefore) -> \(report.framesAfter), end_reason \(report.endReason)"
                }
                if SessionRecovery.isLive(path: path) { throw DamagedFile(message: "left alone: a running recorder is writing it") }
                let moved = try DamagedFile.setAside(path)
                throw DamagedFile(message: "set aside as \(moved): \(outcome.failure)")
            })
    }
}
