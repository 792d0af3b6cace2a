import Foundation

/// The wall-clock time for a manifest field (`finished_at_utc`): ISO 8601 UTC with milliseconds.
enum UTCStamp {
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
