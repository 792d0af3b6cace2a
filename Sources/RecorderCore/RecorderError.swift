/// Errors that cross module boundaries; each message says what failed and where.
public enum RecorderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The system refused to create a thread.
    case threadStart(name: String, errno: Int32)
    /// A user-supplied option or file is wrong; the message names the option or file.
    case invalidConfiguration(String)
    /// A display could not be opened or lacks something required.
    case display(String)
    /// A file could not be created, written or read.
    case storage(String)
    /// Any other failure with a message for the log.
    case failed(String)

    public var description: String {
        switch self {
        case .threadStart(let name, let errno): return "cannot start thread \(name): errno \(errno)"
        case .invalidConfiguration(let message): return message
        case .display(let message): return message
        case .storage(let message): return message
        case .failed(let message): return message
        }
    }
}
