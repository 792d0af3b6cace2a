import Foundation

/// The `on_part_sealed` command: run for each sealed part, without a shell, with retries.
///
/// `command` is argv; each element may hold placeholders replaced per part (see `Placeholders`).
/// A part's upload is attempted at most `attempts` times; each attempt may take `timeoutSeconds`,
/// then its process group gets SIGTERM and, `killGraceSeconds` later, SIGKILL. Attempt n + 1 starts
/// `backoffSeconds * 2^(n-1)` (at most `maxBackoffSeconds`) after attempt n failed.
public struct UploadHook: Sendable, Equatable, Codable {
    public var command: [String]
    public var timeoutSeconds: Double
    public var attempts: Int
    /// Uploads that may run at the same time.
    public var concurrency: Int
    public var backoffSeconds: Double

    public static let defaultTimeoutSeconds: Double = 600
    public static let defaultAttempts = 5
    public static let defaultBackoffSeconds: Double = 2
    public static let maxBackoffSeconds: Double = 300
    public static let killGraceSeconds: Double = 2
    /// Parts that may wait for (or be in) an upload; one more is marked "skipped".
    public static let queueCapacity = 64
    /// Bytes of the hook's combined stdout and stderr kept for `last_error` (the end of it).
    public static let outputLimit = 4096

    /// Ranges `validate` enforces.
    public enum Limits {
        public static let timeoutSeconds: ClosedRange<Double> = 0.1...86_400
        public static let attempts: ClosedRange<Int> = 1...100
        public static let concurrency: ClosedRange<Int> = 1...8
        public static let backoffSeconds: ClosedRange<Double> = 0...3_600
        public static let arguments: ClosedRange<Int> = 1...256
        public static let argumentBytes = 4096
    }

    /// What a placeholder stands for, for one part.
    public struct Placeholders: Sendable, Equatable {
        /// `{path}`: the part's absolute path.
        public var path: String
        /// `{session}`: NAME.
        public var session: String
        /// `{session_id}`: the UUID every part carries.
        public var sessionID: String
        /// `{part}`: the part number, 1-based, without padding.
        public var part: Int
        /// `{manifest}`: the manifest's absolute path.
        public var manifest: String

        public init(path: String, session: String, sessionID: String, part: Int, manifest: String) {
            self.path = path
            self.session = session
            self.sessionID = sessionID
            self.part = part
            self.manifest = manifest
        }

        /// Placeholder → value; `{file}` is the part's file name.
        var values: [String: String] {
            ["path": path, "file": path.split(separator: "/").last.map(String.init) ?? path, "session": session,
             "session_id": sessionID, "part": String(part), "manifest": manifest]
        }
    }

    /// Every placeholder name, as written in `command` (`{path}`).
    public static let placeholderNames = ["path", "file", "session", "session_id", "part", "manifest"]

    public init(command: [String], timeoutSeconds: Double = UploadHook.defaultTimeoutSeconds,
                attempts: Int = UploadHook.defaultAttempts, concurrency: Int = 1,
                backoffSeconds: Double = UploadHook.defaultBackoffSeconds) {
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
        self.concurrency = concurrency
        self.backoffSeconds = backoffSeconds
    }

    enum CodingKeys: String, CodingKey {
        case command = "on_part_sealed", timeoutSeconds = "upload_timeout", attempts = "upload_attempts"
        case concurrency = "upload_concurrency", backoffSeconds = "upload_backoff"
    }

    /// Checks the command and every limit; the message names the setting and what it must be.
    public func validate() throws(RecorderError) {
        guard Limits.arguments.contains(command.count) else {
            throw .invalidConfiguration("on_part_sealed must list 1 to \(Limits.arguments.upperBound) arguments (the program first), got \(command.count)")
        }
        guard let program = command.first, !program.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalidConfiguration("on_part_sealed: the program (first element) is empty")
        }
        for (index, argument) in command.enumerated() {
            guard argument.utf8.count <= Limits.argumentBytes, !argument.utf8.contains(0) else {
                throw .invalidConfiguration("on_part_sealed: argument \(index + 1) is longer than \(Limits.argumentBytes) bytes or holds a NUL byte")
            }
            for name in Self.placeholderTokens(in: argument) where !Self.placeholderNames.contains(name) {
                throw .invalidConfiguration("on_part_sealed: unknown placeholder {\(TerminalText.escaped(name))} in argument \(index + 1); known: \(Self.placeholderNames.map { "{\($0)}" }.joined(separator: " "))")
            }
        }
        guard timeoutSeconds.isFinite, Limits.timeoutSeconds.contains(timeoutSeconds) else {
            throw .invalidConfiguration("upload_timeout must be \(Limits.timeoutSeconds.lowerBound) to \(Int(Limits.timeoutSeconds.upperBound)) seconds, got \(timeoutSeconds)")
        }
        guard Limits.attempts.contains(attempts) else {
            throw .invalidConfiguration("upload_attempts must be \(Limits.attempts.lowerBound) to \(Limits.attempts.upperBound), got \(attempts)")
        }
        guard Limits.concurrency.contains(concurrency) else {
            throw .invalidConfiguration("upload_concurrency must be \(Limits.concurrency.lowerBound) to \(Limits.concurrency.upperBound), got \(concurrency)")
        }
        guard backoffSeconds.isFinite, Limits.backoffSeconds.contains(backoffSeconds) else {
            throw .invalidConfiguration("upload_backoff must be 0 to \(Int(Limits.backoffSeconds.upperBound)) seconds, got \(backoffSeconds)")
        }
    }

    /// argv for one part: every `{name}` of a known placeholder replaced, other text kept as written.
    public func arguments(for placeholders: Placeholders) -> [String] {
        let values = placeholders.values
        return command.map { argument in
            var result = ""
            var rest = Substring(argument)
            while let open = rest.firstIndex(of: "{") {
                result += rest[..<open]
                let after = rest[open...].dropFirst()
                if let close = after.firstIndex(of: "}"), let value = values[String(after[..<close])] {
                    result += value
                    rest = after[after.index(after: close)...]
                } else {
                    result += "{"
                    rest = after
                }
            }
            return result + rest
        }
    }

    /// Seconds to wait after failed attempt `attempt` (1-based).
    public func backoff(afterAttempt attempt: Int) -> Double {
        min(Self.maxBackoffSeconds, backoffSeconds * Double(1 << min(20, max(0, attempt - 1))))
    }

    /// Names written as `{name}` (lowercase letters and `_`) in `argument`.
    static func placeholderTokens(in argument: String) -> [String] {
        var names: [String] = []
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[open...].dropFirst()
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            if !name.isEmpty, name.allSatisfy({ $0 == "_" || ($0.isASCII && $0.isLowercase) }) { names.append(String(name)) }
            rest = after
        }
        return names
    }
}
