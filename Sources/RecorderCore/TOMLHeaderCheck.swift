/// Screens TOML text for table headers that the bundled TOML parser (toml++ in TOMLKit) cannot take.
///
/// toml++ asserts, and so aborts the process (undefined behaviour in release builds), on a header
/// whose first character is neither a key character nor a quote: `[\u{1B}`, `[@`, `[[{`. Probe files
/// and the daemon's config come from outside, so such a line is refused with its number first.
/// A multi-line array whose element line starts with `[{` or `[@` is refused too: TOML needs
/// neither in these files.
public enum TOMLHeaderCheck {
    /// Throws naming `source` and the line when a line opens a table header the parser would abort on.
    public static func check(_ text: String, source: String) throws(RecorderError) {
        var number = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var rest = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            guard rest.first == UInt8(ascii: "[") else { continue }
            rest = rest.dropFirst()
            let arrayOfTables = rest.first == UInt8(ascii: "[")
            if arrayOfTables { rest = rest.dropFirst() }
            rest = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if let first = rest.first, isKeyStart(first) || first == UInt8(ascii: "]") || (!arrayOfTables && first == UInt8(ascii: "[")) {
                continue
            }
            throw .invalidConfiguration("\(source): line \(number): a table header must start with a key (A-Z a-z 0-9 _ - or a quote)")
        }
    }

    private static func isKeyStart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"):
            return true
        default:
            return false
        }
    }
}
