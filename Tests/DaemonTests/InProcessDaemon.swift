import DaemonControl
import Foundation
import Logging
import RecorderCore
import Synchronization
import TestSupport

/// The real DaemonControl server on a real socket in a temporary directory, run in this process.
///
/// Used for protocol-level checks that need no recording session; starting one here is a test bug.
final class InProcessDaemon: Sendable {
    let directory: URL
    let socketPath: String
    let outputDirectory: String
    let daemon: RecorderDaemon
    private let runner: NamedThread
    /// 0 while running, 1 after a clean stop, 2 when a thread did not stop in time.
    private final class Outcome: Sendable { let value = Atomic<Int>(0) }
    private let outcome = Outcome()

    /// - Parameter summarize: the `list` summary hook (recorderd runs `recorder inspect` there); nil lists names only.
    init(limits: ControlServer.Limits = ControlServer.Limits(), environment: [String: String] = [:], configTOML: String? = nil, useOutputFlag: Bool = true,
         summarize: (@Sendable (String) throws -> JSONValue)? = nil) throws {
        directory = try TestPaths.temporaryDirectory("daemon")
        let runDirectory = directory.appendingPathComponent("run")
        // 0755 so the peer-credential test can let another user reach the socket on purpose.
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        socketPath = runDirectory.appendingPathComponent("control.sock").path
        outputDirectory = directory.appendingPathComponent("sessions").path
        var arguments = DaemonArguments(socketPath: socketPath, outputDirectory: useOutputFlag ? outputDirectory : nil)
        if let configTOML {
            let path = directory.appendingPathComponent("recorderd.toml").path
            try configTOML.write(toFile: path, atomically: true, encoding: .utf8)
            arguments.configPath = path
        }
        var settings = RecorderDaemon.Settings(arguments: arguments, environment: environment.merging(["HOME": directory.path]) { a, _ in a })
        settings.limits = limits
        var logger = Logger(label: "recorderd-test")
        logger.logLevel = .warning
        daemon = try RecorderDaemon(settings: settings, hooks: DaemonHooks(makeSession: { options in
            preconditionFailure("protocol tests never start a session; got a start for \(options.output)")
        }, summarize: summarize), logger: logger)
        try daemon.start()
        let daemon = daemon
        let outcome = outcome
        runner = try NamedThread.spawn(name: "test-daemon") {
            outcome.value.store(daemon.run() ? 1 : 2, ordering: .releasing)
        }
    }

    func client() throws -> ControlTestClient { try ControlTestClient(path: socketPath) }

    /// Sends SIGTERM's handling path and waits; true when every daemon thread stopped in time.
    @discardableResult
    func shutdown() -> Bool {
        daemon.handle(signal: SIGTERM)
        runner.join(timeoutNanoseconds: 10_000_000_000)
        return outcome.value.load(ordering: .acquiring) == 1
    }

    deinit {
        if outcome.value.load(ordering: .acquiring) == 0 { shutdown() }
        try? FileManager.default.removeItem(at: directory)
    }
}
