import Foundation
import RecorderCore

/// A private Xvfb server for one test suite: its own display number, MIT-SHM on, killed on `stop()` or deinit.
public final class XvfbDisplay: @unchecked Sendable {
    // @unchecked Sendable: `process` is set once in init and only read afterwards (terminate is thread-safe).
    /// `:N`, to pass as `--display` or DISPLAY.
    public let name: String
    public let number: Int
    public let width: Int
    public let height: Int
    private let process: Process

    /// Starts Xvfb on the first free display number at or above 90 and waits until it accepts connections.
    public init(width: Int = 640, height: Int = 480, depth: Int = 24, extraArguments: [String] = []) throws {
        self.width = width
        self.height = height
        var chosen: Int?
        var started: Process?
        for candidate in 90..<400 {
            let lock = "/tmp/.X\(candidate)-lock"
            let socket = "/tmp/.X11-unix/X\(candidate)"
            if FileManager.default.fileExists(atPath: lock) || FileManager.default.fileExists(atPath: socket) { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/Xvfb")
            process.arguments = [":\(candidate)", "-screen", "0", "\(width)x\(height)x\(depth)", "-nolisten", "tcp",
                                 "+extension", "MIT-SHM", "-noreset"] + extraArguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if XvfbDisplay.waitForSocket(socket, process: process) {
                chosen = candidate
                started = process
                break
            }
            process.terminate()
            process.waitUntilExit()
        }
        guard let chosen, let started else { throw RecorderError.display("no free X display number for Xvfb") }
        number = chosen
        name = ":\(chosen)"
        process = started
    }

    private static func waitForSocket(_ path: String, process: Process) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !process.isRunning { return false }
            if FileManager.default.fileExists(atPath: path) {
                // The socket exists slightly before the server answers; xdpyinfo proves it answers.
                if (try? runTool("/usr/bin/xdpyinfo", ["-display", ":\(path.split(separator: "X").last!)"]).status) == 0 { return true }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// The Xvfb process id (tests kill it to simulate a lost display).
    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// Kills the server at once (SIGKILL) and waits for it.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: "/tmp/.X\(number)-lock")
        try? FileManager.default.removeItem(atPath: "/tmp/.X11-unix/X\(number)")
    }

    /// Stops the server and waits for it to exit.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
