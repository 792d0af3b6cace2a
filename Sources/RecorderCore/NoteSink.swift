import Logging

/// Where one thread's session notes go: the log, and /log/notes in the file.
///
/// Producers hand their notes to the writer through the notes mailbox; the writer, which owns the file,
/// appends its own directly. Used only by the thread it was made for.
public struct NoteSink {
    /// The thread that reports: capture, input, state, writer.
    public let source: String
    private let logger: Logger
    private let deliver: (SessionNote) -> Void

    /// A sink that hands notes to `mailbox`; a full mailbox costs the note (logged as lost).
    public init(source: String, logger: Logger, mailbox: BoundedMailbox<SessionNote>) {
        self.init(source: source, logger: logger) { [logger] note in
            if !mailbox.trySend(note) {
                logger.error("notes mailbox full; lost note \(note.kind): \(note.message)")
            }
        }
    }

    /// A sink that hands notes to `deliver` (the writer's own file).
    public init(source: String, logger: Logger, deliver: @escaping (SessionNote) -> Void) {
        self.source = source
        self.logger = logger
        self.deliver = deliver
    }

    /// Logs `message` as "kind: message" at `level` and delivers it as a note stamped now.
    public func post(_ kind: String, _ message: String, level: Logger.Level = .warning) {
        logger.log(level: level, "\(kind): \(message)")
        deliver(SessionNote(source: source, kind: kind, message: message))
    }
}
