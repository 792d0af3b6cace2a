import ArgumentParser
import DaemonControl
import Foundation

/// `--socket` and `--json`, shared by the commands that talk to recorderd.
struct DaemonConnectionArguments: ParsableArguments {
    @Option(help: "recorderd's control socket (default: $XDG_RUNTIME_DIR/recorder/control.sock, or /run/recorder/control.sock).")
    var socket: String?

    @Flag(help: "Print the daemon's reply as one JSON object.")
    var json = false

    var socketPath: String { socket ?? DaemonClient.defaultSocketPath() }

    /// Sends `request`; exits 69 when the daemon cannot be reached, 1 on a garbled reply.
    func send(_ request: ControlRequest, command: String, timeoutSeconds: Double = 120) throws -> JSONValue {
        do {
            return try DaemonClient(socketPath: socketPath, timeoutSeconds: timeoutSeconds).send(request)
        } catch {
            Console.error("recorder \(command): \(error.description)")
            switch error {
            case .unreachable: throw ExitCode(ExitCodes.daemonUnreachable)
            case .badReply: throw ExitCode(ExitCodes.failure)
            }
        }
    }

    /// Prints a refusal and exits with the code its `code` maps to (3 not running, 64 bad request, else 1).
    func fail(_ reply: JSONValue, command: String) -> ExitCode {
        if json {
            Console.out(reply.jsonText, raw: true)
        } else {
            Console.error("recorder \(command): \(reply["error"]?.stringValue ?? "refused")")
        }
        switch reply["code"]?.stringValue {
        case ControlError.Code.notRunning.rawValue: return ExitCode(ExitCodes.notRunning)
        case ControlError.Code.badRequest.rawValue: return ExitCode(ExitCodes.usage)
        default: return ExitCode(ExitCodes.failure)
        }
    }
}
