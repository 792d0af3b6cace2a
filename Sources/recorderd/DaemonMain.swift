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

    static func hooks(logger: Logger) -> DaemonHooks {
        DaemonHooks(
            makeSession: { options in RecordingSessionHost(options: options, logger: logger) },
            summarize: { path in
                try JSONValue.encoding(SessionInspector.inspect(path: path))
            },
            recover: { path in
                let report = try SessionRecovery.recover(path: path)
                guard !report.wasClean else { return nil }
                return "frames \(report.framesBefore) -> \(report.framesAfter), end_reason \(report.endReason)"
            })
    }
}
