#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import RecorderCore
import Synchronization

/// recorderd: serves the control socket, runs one session at a time, speaks sd_notify.
///
/// Threads: "rec-control" (the socket), "rec-session" (start, wait and seal of the current session),
/// "rec-watchdog" (sd_notify WATCHDOG=1 and STATUS=, only under systemd), and the caller of `run()`,
/// which coordinates reloads and the shutdown. Signals arrive through `handle(signal:)`.
public final class RecorderDaemon: Sendable {
    /// Everything that shapes one daemon process.
    public struct Settings: Sendable {
        public var arguments: DaemonArguments
        public var environment: [String: String]
        public var limits = ControlServer.Limits()
        /// Users allowed on the control socket (SO_PEERCRED): the daemon's own user and root.
        public var allowedUIDs: Set<UInt32> = [getuid(), 0]
        /// How long the session may take to seal at shutdown (the writer's own limit is 60 s).
        public var sessionStopTimeoutNanoseconds: Int64 = 90_000_000_000
        /// How long the other threads may take to stop.
        public var threadStopTimeoutNanoseconds: Int64 = 3_000_000_000

        public init(arguments: DaemonArguments, environment: [String: String] = ProcessInfo.processInfo.environment) {
            self.arguments = arguments
            self.environment = environment
        }
    }

    /// The session being started, recorded or sealed.
    struct ActiveSession: Sendable {
        let name: String
        let file: String
        let host: any SessionHost
        var stopWaiters: [ControlServer.ClientID] = []
    }

    struct State: Sendable {
        var configuration: DaemonConfiguration
        var active: ActiveSession?
        var lastSession: JSONValue?
        var shuttingDown = false
    }

    /// A finished file's summary with the size and time it was computed for.
    struct CachedSummary: Sendable {
        let size: Int64
        let modified: Int64
        let summary: Result<JSONValue, ControlError>
    }

    public let settings: Settings
    public let socketPath: String
    let hooks: DaemonHooks
    let logger: Logger
    let notifier: SystemdNotifier?
    let state: Mutex<State>
    let server = Mutex<ControlServer?>(nil)
    let sessionThread = Mutex<NamedThread?>(nil)
    let watchdogThread = Mutex<NamedThread?>(nil)
    let summaries = Mutex<[String: CachedSummary]>([:])
    let coordinatorBell = Doorbell()
    let shutdownReason = Mutex<String?>(nil)
    let reloadRequested = Atomic<Bool>(false)
    let watchdogStop = Atomic<Bool>(false)
    let watchdogBell = Doorbell()

    /// Reads the config file (if any) and settles the socket path; nothing is opened yet.
    /// - Throws: `RecorderError.invalidConfiguration` for an unreadable or wrong config file.
    public init(settings: Settings, hooks: DaemonHooks, logger: Logger) throws(RecorderError) {
        self.settings = settings
        self.hooks = hooks
        self.logger = logger
        let configPath = Self.configPath(settings)
        let configuration = try configPath.map { path throws(RecorderError) in try DaemonConfiguration.load(path: path) } ?? DaemonConfiguration()
        socketPath = settings.arguments.socketPath ?? configuration.socketPath ?? DaemonPaths.defaultSocketPath(environment: settings.environment)
        state = Mutex(State(configuration: configuration))
        notifier = SystemdNotifier(environment: settings.environment)
    }

    /// `--config`, else the default config file when it exists (checked again at each reload).
    static func configPath(_ settings: Settings) -> String? {
        if let path = settings.arguments.configPath { return path }
        let fallback = DaemonPaths.defaultConfigPath(environment: settings.environment)
        return FileManager.default.fileExists(atPath: fallback) ? fallback : nil
    }

    /// Where sessions go now: `--output-dir`, else the config's `output_dir`, else the default.
    public var outputDirectory: String {
        outputDirectory(for: state.withLock { $0.configuration })
    }

    func outputDirectory(for configuration: DaemonConfiguration) -> String {
        settings.arguments.outputDirectory ?? configuration.outputDirectory ?? DaemonPaths.defaultOutputDirectory(environment: settings.environment)
    }

    /// Prepares the output directory, recovers crash leftovers, starts listening, then tells systemd READY=1.
    public func start() throws(RecorderError) {
        let directory = outputDirectory
        try Self.createDirectory(directory)
        recoverLeftovers(in: directory)
        let server = try ControlServer(path: socketPath, limits: settings.limits, allowedUIDs: settings.allowedUIDs, logger: logger)
        do {
            try server.start { [self] line, client, peer in
                handleLine(line, from: client, peer: peer)
            }
        } catch {
            server.stop()
            throw error
        }
        self.server.withLock { $0 = server }
        if let notifier {
            // READY=1 first: the socket already accepts, and systemd ignores pings before READY.
            notifier.notify("READY=1\nSTATUS=idle; listening on \(socketPath)")
            let thread = try NamedThread.spawn(name: "rec-watchdog") { [self] in runWatchdog(notifier) }
            watchdogThread.withLock { $0 = thread }
        }
        logger.info("recorderd ready", metadata: [
            "socket": "\(socketPath)", "output_dir": "\(directory)",
            "config": "\(Self.configPath(settings) ?? "none")", "systemd": "\(notifier != nil)",
        ])
    }

    /// Reacts to a signal: SIGTERM and SIGINT end the session cleanly and then the daemon, SIGHUP reloads the config.
    public func handle(signal: Int32) {
        switch signal {
        case SIGHUP:
            reloadRequested.store(true, ordering: .releasing)
            coordinatorBell.ring()
        case SIGTERM: requestShutdown(reason: "SIGTERM")
        case SIGINT: requestShutdown(reason: "SIGINT")
        default: break
        }
    }

    /// Asks `run()` to end the session and stop the daemon.
    public func requestShutdown(reason: String) {
        shutdownReason.withLock { $0 = $0 ?? reason }
        coordinatorBell.ring()
    }

    /// Asks `run()` to re-read the config file.
    public func requestReload() {
        reloadRequested.store(true, ordering: .releasing)
        coordinatorBell.ring()
    }

    /// Serves until a shutdown is requested, then seals the session and stops every thread.
    /// - Returns: true when every thread stopped within its timeout (the log names any that did not).
    public func run() -> Bool {
        var reason: String?
        while reason == nil {
            let seen = coordinatorBell.sequence
            if reloadRequested.exchange(false, ordering: .acquiringAndReleasing) { reloadConfiguration() }
            reason = shutdownReason.withLock { $0 }
            if reason == nil { coordinatorBell.wait(seen: seen, timeoutNanoseconds: 1_000_000_000) }
        }
        return shutDown(reason: reason ?? "shutdown")
    }

    private func shutDown(reason: String) -> Bool {
        notifier?.notify("STOPPING=1\nSTATUS=stopping (\(reason))")
        logger.info("shutting down", metadata: ["reason": "\(reason)"])
        let active = state.withLock { state -> ActiveSession? in
            state.shuttingDown = true
            return state.active
        }
        var stopped = true
        if let active {
            logger.info("ending the running session before exit", metadata: ["session": "\(active.name)"])
            active.host.stop(.signal, detail: reason)
        }
        // The session thread may not be registered yet (a start in flight): waiting for the session to
        // clear `active` (after sealing) covers that, then the join reaps the thread.
        let deadline = MonotonicClock.now() + settings.sessionStopTimeoutNanoseconds
        var sealed = active == nil
        while !sealed && MonotonicClock.now() < deadline {
            MonotonicClock.sleep(until: MonotonicClock.now() + 5_000_000)
            sealed = state.withLock { $0.active == nil }
        }
        let left = max(0, deadline - MonotonicClock.now())
        if !sealed {
            logger.error("session did not end in time; its file may need `recorder recover`", metadata: ["session": "\(active?.name ?? "?")"])
            stopped = false
        } else if let thread = sessionThread.withLock({ $0 }), !thread.join(timeoutNanoseconds: max(left, settings.threadStopTimeoutNanoseconds)) {
            logger.error("thread did not stop in time; its file may need `recorder recover`", metadata: ["thread": "\(thread.name)"])
            stopped = false
        }
        watchdogStop.store(true, ordering: .releasing)
        watchdogBell.ring()
        if let thread = watchdogThread.withLock({ $0 }), !thread.join(timeoutNanoseconds: settings.threadStopTimeoutNanoseconds) {
            logger.error("thread did not stop in time", metadata: ["thread": "\(thread.name)"])
            stopped = false
        }
        if let server = server.withLock({ $0 }), !server.stop(timeoutNanoseconds: settings.threadStopTimeoutNanoseconds) {
            logger.error("thread did not stop in time", metadata: ["thread": "\(ControlServer.threadName)"])
            stopped = false
        }
        logger.info("recorderd stopped", metadata: ["clean": "\(stopped)"])
        return stopped
    }

    private func reloadConfiguration() {
        guard let path = Self.configPath(settings) else {
            logger.info("SIGHUP: no config file to reload", metadata: ["looked_for": "\(DaemonPaths.defaultConfigPath(environment: settings.environment))"])
            return
        }
        do {
            let configuration = try DaemonConfiguration.load(path: path)
            state.withLock { $0.configuration = configuration }
            if let socket = configuration.socketPath, socket != socketPath, settings.arguments.socketPath == nil {
                logger.warning("config names another socket; that takes a restart", metadata: ["socket": "\(socket)"])
            }
            logger.info("configuration reloaded; applies from the next session", metadata: [
                "config": "\(path)", "output_dir": "\(outputDirectory(for: configuration))",
            ])
        } catch {
            logger.error("configuration reload failed; keeping the previous one", metadata: ["config": "\(path)", "error": "\(error)"])
        }
    }

    /// Repairs files whose session was killed before sealing them.
    ///
    /// Runs before the socket opens, so every file asks systemd for more start-up time
    /// (EXTEND_TIMEOUT_USEC): many or large leftovers must not trip TimeoutStartSec.
    private func recoverLeftovers(in directory: String) {
        guard let recover = hooks.recover else { return }
        let entries = SessionDirectory.sessionFiles(in: directory)
        for (index, entry) in entries.enumerated() {
            notifier?.notify("EXTEND_TIMEOUT_USEC=\(Self.recoveryTimeExtensionMicroseconds)\n"
                + "STATUS=checking \(index + 1) of \(entries.count) session files for crash leftovers: \(entry.path)")
            do {
                if let outcome = try recover(entry.path) {
                    logger.warning("recovered a session left unsealed by a crash", metadata: ["file": "\(entry.path)", "outcome": "\(outcome)"])
                }
            } catch {
                logger.error("could not recover a session file", metadata: ["file": "\(entry.path)", "error": "\(error)"])
            }
        }
    }

    /// Start-up time systemd grants per session file checked (a multi-GB file recovers in seconds).
    static let recoveryTimeExtensionMicroseconds = 60_000_000

    static func createDirectory(_ path: String) throws(RecorderError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .storage("output directory \(path) exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .storage("cannot create output directory \(path): \(error.localizedDescription)")
        }
    }

    func reply(_ value: JSONValue, to client: ControlServer.ClientID) {
        server.withLock { $0 }?.reply(value, to: client)
    }
}
