/// Why a session ended; stored as the root attribute `end_reason`.
public enum EndReason: String, Sendable, Codable, CaseIterable {
    case duration
    case stopped
    case signal
    case displayLost = "display-lost"
    case diskFull = "disk-full"
    case error
    case recovered
}
