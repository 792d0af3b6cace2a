import Foundation
import RecorderCore

/// A fake X server (`scripts/dying_x_server.py`) that completes the connection setup and then hangs
/// up on the first request, so the client's XOpenDisplay meets a dead server in its own round trips.
public final class DyingXServer: Sendable {
    /// `:N`, to pass as `--display`.
    public let name: String
    private let process: BackgroundProcess

    /// Starts the server and waits until it listens.
    public init() throws {
        process = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.dyingXServer])
        guard process.waitForOutput("ready :", timeout: 60),
              let announced = process.stdout.split(separator: "\n").first(where: { $0.hasPrefix("ready :") }) else {
            process.terminate()
            throw RecorderError.display("dying X server did not start: \(process.stderr)")
        }
        name = String(announced.dropFirst("ready ".count))
    }

    /// Ends the server; it removes its socket and lock file.
    public func stop() {
        process.send(SIGTERM)
        _ = process.waitForExit(timeout: 5)
    }

    deinit { stop() }
}
