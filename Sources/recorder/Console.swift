#if canImport(Glibc)
import Glibc
#endif
import RecorderCore

/// The CLI's only way to stdout and stderr: untrusted text escaped, and a closed pipe never fatal.
///
/// With SIGPIPE ignored (`SignalWatcher.blockSignals`), writing to a reader that went away
/// (`recorder record ... | head`) gives EPIPE, which is dropped here: the session still seals and
/// the exit status still says how it ended. Human text goes through `TerminalText` so metadata,
/// device names and window titles cannot drive the terminal; JSON is written as encoded.
enum Console {
    /// Writes `text` and a newline to stdout; `raw` skips escaping (JSON, which escapes controls itself).
    static func out(_ text: String, raw: Bool = false) { write(1, raw ? text : TerminalText.escapedLines(text)) }

    /// Writes `text` and a newline to stderr, escaped.
    static func error(_ text: String) { write(2, TerminalText.escapedLines(text)) }

    /// Writes terminal control sequences of our own (the live status line) to stderr as they are.
    static func control(_ text: String) { writeAll(2, Array(text.utf8)) }

    private static func write(_ fd: Int32, _ text: String) { writeAll(fd, Array((text + "\n").utf8)) }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return  // EPIPE or a closed descriptor: nobody reads any more
            }
        }
    }
}
