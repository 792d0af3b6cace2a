import Foundation
import RecorderCore

/// A private Xvfb server for one test suite: its own display number, MIT-SHM on, killed on `stop()` or deinit.
///
/// Xvfb picks a free display number itself (`-displayfd`), so suites starting in parallel never share one.
public final class XvfbDisplay: @unchecked Sendable {
    // @unchecked Sendable: `process` is set once in init and only read afterwards (signals are thread-safe).
    /// `:N`, to pass as `--display` or DISPLAY.
    public let name: String
    public let number: Int
    public let width: Int
    public let height: Int
    private let process: Process

    /// Starts Xvfb and waits until it accepts connections.
    public init(width: Int = 640, height: Int = 480, depth: Int = 24, extraArguments: [String] = []) throws {
        self.width = width
        self.height = height
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/Xvfb")
        process.arguments = ["-displayfd", "1", "-screen", "0", "\(width)x\(height)x\(depth)", "-nolisten", "tcp",
                             "+extension", "MIT-SHM", "-noreset"] + extraArguments
        let announce = Pipe()
        process.standardOutput = announce
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let chosen = XvfbDisplay.readDisplayNumber(announce.fileHandleForReading.fileDescriptor, timeout: 60) else {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw RecorderError.display("Xvfb did not announce a display number")
        }
        number = chosen
        name = ":\(chosen)"
        self.process = process
    }

    /// Reads the number Xvfb writes to its -displayfd once it is ready.
    private static func readDisplayNumber(_ fd: Int32, timeout: Double) -> Int? {
        var text = ""
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return nil }
            if poller.revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                if read(fd, &byte, 1) != 1 { return nil }
                if byte == UInt8(ascii: "\n") { return Int(text) }
                text.append(Character(UnicodeScalar(byte)))
            } else if poller.revents != 0 {
                return nil
            }
        }
        return nil
    }

    /// The Xvfb process id (tests kill it to simulate a lost display).
    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// Kills the server at once (SIGKILL) and waits for it: the display goes away as if it crashed.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: "/tmp/.X\(number)-lock")
        try? FileManager.default.removeItem(atPath: "/tmp/.X11-unix/X\(number)")
    }

    /// Stops the server and waits for it to exit.
    ///
    /// SIGKILL, not SIGTERM: a server started from a test thread inherits that thread's blocked
    /// signals, and a blocked SIGTERM would leave the wait hanging.
    public func stop() { kill() }

    deinit { stop() }
}
