#if canImport(Glibc)
import Glibc
#endif
import Logging

/// A swift-log handler that writes one line per message to stderr with the thread's name.
///
/// journald adds its own timestamps; the thread name tells capture, input, state and writer apart.
public struct RecorderLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        // Messages carry device names, window titles and file contents: one log line stays one line, without escapes.
        let text = "\(event.level) [\(NamedThread.currentName)] \(label): \(TerminalText.escaped("\(event.message)\(fields)"))\n"
        // One write(2) per line so lines from different threads never interleave.
        text.utf8CString.withUnsafeBufferPointer { buffer in
            _ = Glibc.write(2, buffer.baseAddress, buffer.count - 1)
        }
    }

    /// Installs the handler for the whole process once; the level comes from RECORDER_LOG_LEVEL.
    public static func bootstrap(defaultLevel: Logger.Level = .info) {
        let level = getenv("RECORDER_LOG_LEVEL").flatMap { Logger.Level(rawValue: String(cString: $0)) } ?? defaultLevel
        LoggingSystem.bootstrap { RecorderLogHandler(label: $0, level: level) }
    }
}
