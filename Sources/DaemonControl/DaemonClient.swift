#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore

/// Sends one request to recorderd and reads its one reply line (used by the `recorder` CLI).
public struct DaemonClient: Sendable {
    /// Why a request got no reply.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// No daemon listens at the socket (missing, refused, permission).
        case unreachable(String)
        /// The daemon answered something that is not one JSON object line, or closed early.
        case badReply(String)

        public var description: String {
            switch self {
            case .unreachable(let message): return message
            case .badReply(let message): return message
            }
        }
    }

    public let socketPath: String
    /// How long to wait for the reply (a `stop` waits for the file to be sealed).
    public let timeoutSeconds: Double

    public init(socketPath: String, timeoutSeconds: Double = 120) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// The socket path `recorder` uses without `--socket`: `$XDG_RUNTIME_DIR/recorder/control.sock`;
    /// when nothing is there but the system unit's `/run/recorder/control.sock` exists, that one.
    public static func defaultSocketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let own = DaemonPaths.defaultSocketPath(environment: environment)
        let system = "/run/recorder/control.sock"
        if !FileManager.default.fileExists(atPath: own) && FileManager.default.fileExists(atPath: system) { return system }
        return own
    }

    /// Sends `request` and returns the reply object (`ok` true or false).
    public func send(_ request: ControlRequest) throws(Failure) -> JSONValue {
        try send(line: request.json.jsonText)
    }

    /// Sends one raw line (a newline is added) and returns the parsed reply.
    public func send(line: String) throws(Failure) -> JSONValue {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: socketPath, timeoutSeconds: timeoutSeconds)
        } catch {
            throw .unreachable("recorderd is not reachable at \(socketPath): \(error.description.replacingOccurrences(of: "cannot connect to \(socketPath): ", with: ""))")
        }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw .unreachable("cannot send to recorderd at \(socketPath): \(errnoText())") }
            offset += sent
        }
        let replyLine = try Self.readLine(fd)
        do {
            let value = try JSONValue.parse(Data(replyLine))
            guard case .object = value else { throw Failure.badReply("recorderd replied \(value.kindName), not an object") }
            return value
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .badReply("recorderd replied something that is not JSON: \(String(decoding: replyLine.prefix(200), as: UTF8.self))")
        }
    }

    /// Reads up to the first newline; the reply may be large (`list`), so no fixed cap below 64 MiB.
    static func readLine(_ fd: Int32) throws(Failure) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                if let newline = buffer[0..<count].firstIndex(of: UInt8(ascii: "\n")) {
                    received += buffer[0..<newline]
                    return received
                }
                received += buffer[0..<count]
                guard received.count < 64 << 20 else { throw .badReply("reply line longer than 64 MiB") }
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw .badReply("recorderd did not reply within the timeout")
            }
            if count == 0 && !received.isEmpty { return received }
            throw .badReply("recorderd closed the connection without a reply")
        }
    }
}
