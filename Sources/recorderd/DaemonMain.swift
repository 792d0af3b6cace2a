#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import Foundation
import HDF5Store
import Logging
import RecorderCore
import Recording

/// `recorderd [--socket PATH] [--config FILE.toml] [--output-dir DIR]`: wires the real sessions and
/// the HDF5 inspector and recovery into DaemonControl's daemon, and signals into it.
enum DaemonMain {
    /// EX_USAGE and EX_CONFIG from sysexits.h.
    static let usageExit: Int32 = 64
    static let configExit: Int32 = 78

    static func run() -> Int32 {
        // Before any thread exists, so every thread inherits the mask and only rec-signals takes them.
        SignalWatcher.blockSignals()
        signal(SIGPIPE, SIG_IGN)
        RecorderLogHandler.bootstrap()
        let logger = Logger(label: "recorderd")

        let arguments: DaemonArguments
        do {
            arguments = try DaemonArguments.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("recorderd: \(error.message)\n\(DaemonArguments.usage)\n".utf8))
            return usageExit
        }
        if arguments.showHelp {
            print(DaemonArguments.usage)
            return 0
        }
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
                let summary = try SessionInspector.inspect(path: path)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return try JSONValue.parse(encoder.encode(summary))
            },
            recover: { path in
                let report = try SessionRecovery.recover(path: path)
                guard !report.wasClean else { return nil }
                return "frames \(report.framesBefore) -> \(report.framesAfter), end_reason \(report.endReason)"
            })
    }
}
