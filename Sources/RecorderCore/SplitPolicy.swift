import Foundation

/// When a session moves on to its next part file (`--split-every`, `--split-size`).
///
/// A part ends at the first frame boundary after either limit is reached; nil limits never split.
public struct SplitPolicy: Sendable, Equatable, Codable {
    /// Seconds of session time per part.
    public var everySeconds: Double?
    /// Bytes of file per part (checked against the stored size, so a part may exceed it by one frame).
    public var sizeBytes: Int64?

    public init(everySeconds: Double? = nil, sizeBytes: Int64? = nil) {
        self.everySeconds = everySeconds
        self.sizeBytes = sizeBytes
    }

    enum CodingKeys: String, CodingKey {
        case everySeconds = "every_seconds"
        case sizeBytes = "size_bytes"
    }

    /// True when at least one limit is set.
    public var splits: Bool { everySeconds != nil || sizeBytes != nil }

    /// Shortest and longest part duration, and smallest and largest part size.
    public enum Limits {
        public static let everySeconds: ClosedRange<Double> = 1...86_400
        public static let sizeBytes: ClosedRange<Int64> = (1 << 20)...(1 << 40)
    }

    /// Parses a duration: `90`, `90s`, `5m`, `1h`, `1.5h` (seconds when there is no unit).
    public static func parseDuration(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 32 else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(trimmed)
        var scale: Double = 1
        if let last = number.last, let unit = units[last] {
            scale = unit
            number = number.dropLast()
        }
        guard number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number),
              value.isFinite, value >= 0 else { return nil }
        return value * scale
    }

    /// Checks both limits against `Limits`; the message names the option and the range.
    public func validate() throws(RecorderError) {
        if let everySeconds, !(everySeconds.isFinite && Limits.everySeconds.contains(everySeconds)) {
            throw .invalidConfiguration("--split-every must be \(Int(Limits.everySeconds.lowerBound)) s to \(Int(Limits.everySeconds.upperBound)) s, got \(everySeconds)")
        }
        if let sizeBytes, !Limits.sizeBytes.contains(sizeBytes) {
            throw .invalidConfiguration("--split-size must be \(ByteSize.describe(Limits.sizeBytes.lowerBound)) to \(ByteSize.describe(Limits.sizeBytes.upperBound)), got \(sizeBytes) bytes")
        }
    }
}
