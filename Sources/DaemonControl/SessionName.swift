import Foundation
import RecorderCore

/// Session names: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot, so NAME.h5 can only ever
/// name a file directly inside the output directory.
public enum SessionName {
    public static let maximumLength = 64

    /// Checks `name`; the error says exactly what is wrong with it.
    public static func validate(_ name: String) throws(ControlError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw .badRequest("session name is empty; use 1 to 64 of A-Z a-z 0-9 . _ -") }
        guard bytes.count <= maximumLength else {
            throw .badRequest("session name is \(bytes.count) bytes long; at most \(maximumLength) are allowed")
        }
        guard bytes[0] != UInt8(ascii: ".") else {
            throw .badRequest("session name '\(printable(name))' starts with a dot; names may not start with '.'")
        }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            let shown = bad.isASCII && bad.value >= 0x20 && bad.value < 0x7f ? "'\(bad)'" : String(format: "U+%04X", bad.value)
            throw .badRequest("session name '\(printable(name))' contains \(shown); only A-Z a-z 0-9 . _ - are allowed")
        }
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": return true
        default: return false
        }
    }

    /// The name with control characters escaped, safe to put in a message or a log line.
    static func printable(_ name: String) -> String {
        TerminalText.escaped(String(String.UnicodeScalarView(name.unicodeScalars.prefix(80))))
    }
}
