/// Screens TOML text for constructs that the bundled TOML parser (toml++ in TOMLKit) cannot take.
///
/// toml++ asserts, and so aborts the process (undefined behaviour in release builds, where the
/// assertion becomes an optimiser assumption), on two shapes of input:
/// - a table header whose first character is neither a key character nor a quote: `[\u{1B}`,
///   `[@`, `[[{`;
/// - a `}` where an array expects a value, right after its `[` or a `,` (`[}`, `[1, }`).
/// Probe files and the daemon's config come from outside, so such text is refused with its line
/// number before the parser sees it. A multi-line array whose element line starts with `[{` or `[@`
/// is refused too: TOML needs neither in these files.
public enum TOMLPrecheck {
    /// Throws naming `source` and the line when the text holds a shape the parser would abort on.
    public static func check(_ text: String, source: String) throws(RecorderError) {
        switch firstAbortingShape(Array(text.utf8)) {
        case nil:
            return
        case .badTableHeader(let line):
            throw .invalidConfiguration("\(source): line \(line): a table header must start with a key (A-Z a-z 0-9 _ - or a quote)")
        case .braceWhereAValueIsExpected(let line):
            throw .invalidConfiguration("\(source): line \(line): '}' where a value or ']' was expected")
        }
    }

    /// A shape of input toml++ aborts on, with its 1-based line.
    public enum AbortingShape: Equatable, Sendable {
        case badTableHeader(line: Int)
        case braceWhereAValueIsExpected(line: Int)
    }

    /// The first aborting shape outside strings and comments, or nil when there is none.
    public static func firstAbortingShape(_ bytes: [UInt8]) -> AbortingShape? {
        let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), newline = UInt8(ascii: "\n")
        var line = 1
        var index = 0
        var atLineStart = true
        var afterOpenerOrComma = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case newline:
                line += 1
                index += 1
                atLineStart = true
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
                continue
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != newline { index += 1 }
                continue
            case quote, apostrophe:
                afterOpenerOrComma = false
                index = endOfString(bytes, from: index, line: &line)
            case UInt8(ascii: "}") where afterOpenerOrComma:
                return .braceWhereAValueIsExpected(line: line)
            case UInt8(ascii: "[") where atLineStart && !isTableHeaderStart(bytes[(index + 1)...]):
                return .badTableHeader(line: line)
            default:
                afterOpenerOrComma = byte == UInt8(ascii: "[") || byte == UInt8(ascii: ",")
                index += 1
            }
            atLineStart = false
        }
        return nil
    }

    /// Whether the text after a line's opening `[` starts a header toml++ takes: a key, `]`, or a
    /// second `[` (for `[[`) followed by a key. A multi-line array's element line starting with `[[`
    /// passes too; one starting with `[{` or `[@` is refused, as TOML needs neither in these files.
    private static func isTableHeaderStart(_ afterBracket: ArraySlice<UInt8>) -> Bool {
        let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var rest = afterBracket.prefix { $0 != UInt8(ascii: "\n") }
        let arrayOfTables = rest.first == UInt8(ascii: "[")
        if arrayOfTables { rest = rest.dropFirst() }
        rest = rest.drop(while: blank)
        guard let first = rest.first else { return false }
        return isKeyStart(first) || first == UInt8(ascii: "]") || (!arrayOfTables && first == UInt8(ascii: "["))
    }

    /// The index just past the string that opens at `start` (basic, literal, or their multi-line
    /// forms); a single-line string also ends at a line break, as the parser's error would.
    private static func endOfString(_ bytes: [UInt8], from start: Int, line: inout Int) -> Int {
        let delimiter = bytes[start]
        let isBasic = delimiter == UInt8(ascii: "\"")
        let newline = UInt8(ascii: "\n")
        let multiLine = start + 2 < bytes.count && bytes[start + 1] == delimiter && bytes[start + 2] == delimiter
        var index = start + (multiLine ? 3 : 1)
        while index < bytes.count {
            let byte = bytes[index]
            if isBasic && byte == UInt8(ascii: "\\") {
                if index + 1 < bytes.count, bytes[index + 1] == newline { line += 1 }
                index += 2
                continue
            }
            if byte == newline {
                line += 1
                if !multiLine { return index + 1 }
            }
            if byte == delimiter {
                if !multiLine { return index + 1 }
                if index + 2 < bytes.count, bytes[index + 1] == delimiter, bytes[index + 2] == delimiter {
                    // Up to two more delimiters belong to the content: `"""a"""""` holds `a""`.
                    var end = index + 3
                    while end < bytes.count, end < index + 5, bytes[end] == delimiter { end += 1 }
                    return end
                }
            }
            index += 1
        }
        return index
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
