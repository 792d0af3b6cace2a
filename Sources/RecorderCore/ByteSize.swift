import Foundation

/// A count of bytes as people write it: `1048576`, `500M`, `2G`, `1.5GiB`, `700MB`.
///
/// Suffixes are powers of 1024 (K, M, G, T, with or without `B`/`iB`), as `df -h` and systemd read them.
public enum ByteSize {
    /// Parses `text`; nil when it is not a non-negative size that fits in Int64.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 32 else { return nil }
        var number = Substring(trimmed)
        var suffix = ""
        while let last = number.last, last.isLetter {
            suffix = String(last) + suffix
            number = number.dropLast()
        }
        let multipliers: [String: Double] = [
            "": 1, "B": 1,
            "K": 1024, "KB": 1024, "KIB": 1024,
            "M": 1_048_576, "MB": 1_048_576, "MIB": 1_048_576,
            "G": 1_073_741_824, "GB": 1_073_741_824, "GIB": 1_073_741_824,
            "T": 1_099_511_627_776, "TB": 1_099_511_627_776, "TIB": 1_099_511_627_776,
        ]
        guard let multiplier = multipliers[suffix.uppercased()],
              number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else { return nil }
        let bytes = (value * multiplier).rounded()
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    /// `734003200` → `700.0 MiB`: for messages, status and list.
    public static func describe(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
