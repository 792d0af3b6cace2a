import Foundation

/// A child process that runs beside a test (a painter, the daemon, a recording) until stopped.
public final class BackgroundProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` and the pipes are set in init; output is collected under `lock`.
    public let process: Process
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()

    /// Starts `path` with `arguments`; stdout and stderr are collected in the background.
    public init(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let (process, out, err) = pipedProcess(path, arguments, environment: environment)
        self.process = process
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            self.lock.lock(); self.output.append(chunk); self.lock.unlock()
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            self.lock.lock(); self.errors.append(chunk); self.lock.unlock()
        }
        try process.run()
    }

    public var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: output, as: UTF8.self) }
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errors, as: UTF8.self) }
    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Waits until stdout contains `text`, the process exits, or `timeout` seconds pass.
    @discardableResult
    public func waitForOutput(_ text: String, timeout: Double = 10) -> Bool {
        wait(until: { $0.stdout.contains(text) }, timeout: timeout)
    }

    /// Waits until stderr (where the recorder logs) contains `text`, the process exits, or `timeout` seconds pass.
    @discardableResult
    public func waitForStandardError(_ text: String, timeout: Double = 10) -> Bool {
        wait(until: { $0.stderr.contains(text) }, timeout: timeout)
    }

    private func wait(until condition: (BackgroundProcess) -> Bool, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(self) { return true }
            if !process.isRunning { return condition(self) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Waits for the process to exit; returns its status, or nil after `timeout` seconds.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { return nil }
        Thread.sleep(forTimeInterval: 0.05)  // let the readability handlers drain the pipes
        return process.terminationStatus
    }

    /// Sends `signal` to the process.
    public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Kills the process (SIGKILL) if it still runs and waits for it.
    public func terminate() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { terminate() }
}

/// Paths of the repository's helper scripts.
public enum TestScripts {
    public static var paintImage: String { TestPaths.packageRoot.appendingPathComponent("scripts/paint_image.py").path }
    public static var movingScene: String { TestPaths.packageRoot.appendingPathComponent("scripts/moving_scene.py").path }
    public static var dyingXServer: String { TestPaths.packageRoot.appendingPathComponent("scripts/dying_x_server.py").path }
    public static var sessionChecks: String { TestPaths.packageRoot.appendingPathComponent("Tests/scripts/session_checks.py").path }
}

/// Runs `Tests/scripts/session_checks.py COMMAND FILE ...` and decodes its JSON answer.
public func sessionCheck(_ command: String, _ file: String, _ extra: [String] = []) throws -> [String: Any] {
    let result = try runTool("/usr/bin/env", ["python3", TestScripts.sessionChecks, command, file] + extra)
    guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
        throw CheckFailure(message: "session_checks \(command) failed (\(result.status)): \(result.stderr)\(result.stdout)")
    }
    return object
}

/// A helper script did not produce what the test needs.
public struct CheckFailure: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Writes `count` random bytes (seeded, reproducible) to a new file and returns its path.
public func writeRandomImage(width: Int, height: Int, seed: UInt64, in directory: URL) throws -> String {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    var bytes = [UInt8](repeating: 0, count: width * height * 3)
    for i in bytes.indices {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
    }
    let url = directory.appendingPathComponent("image-\(seed).rgb")
    try Data(bytes).write(to: url)
    return url.path
}
