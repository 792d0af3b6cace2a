/// A request the daemon refuses, with a stable code for scripts and a message for people.
public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Machine-readable kinds of refusal, sent as the reply's `code`.
    public enum Code: String, Sendable, Equatable {
        /// The request line is not a valid request (bad JSON, unknown command, wrong type, bad name).
        case badRequest = "bad-request"
        /// A session is already running.
        case busy
        /// `stop` when no session runs.
        case notRunning = "not-running"
        /// The session name is taken by a file in the output directory.
        case exists
        /// The peer's user may not use this daemon.
        case permissionDenied = "permission-denied"
        /// The session could not start (display, probe file, output file).
        case startFailed = "start-failed"
        /// The daemon is stopping and takes no new sessions.
        case shuttingDown = "shutting-down"
        /// The request line is longer than the limit.
        case tooLarge = "too-large"
        /// The request line did not arrive in time.
        case timeout
        /// Too many clients are connected.
        case tooManyClients = "too-many-clients"
        /// Anything else (the message says what).
        case failed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A `bad-request` refusal.
    public static func badRequest(_ message: String) -> ControlError { ControlError(.badRequest, message) }

    public var description: String { message }

    /// The reply line's object: `{"ok": false, "error": ..., "code": ...}`.
    public var reply: JSONValue { ["ok": false, "error": .string(message), "code": .string(code.rawValue)] }
}
