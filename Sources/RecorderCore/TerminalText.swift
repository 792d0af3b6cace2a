/// Text from outside (metadata, device names, window titles, file contents) made safe for a terminal or a log line.
///
/// A raw ESC or CSI in an untrusted string can move the cursor, rewrite what is shown, set the window
/// title or, on some terminals, answer back into the input; a raw newline forges a log line. Every
/// control character (C0, DEL, C1) and every bidirectional override is shown as a visible escape.
public enum TerminalText {
    /// True for characters that must not reach a terminal or a log as themselves.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        // Bidirectional embeddings, overrides and isolates reorder what is displayed.
        case 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// `text` with every control character written as `\xNN` (or `\u{NNNN}`); a backslash is kept as is.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                let hex = String(scalar.value, radix: 16)
                let shown = scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
                result.append(contentsOf: shown.unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Escapes each line of a multi-line text, keeping its line breaks (and tabs) as layout.
    public static func escapedLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.split(separator: "\t", omittingEmptySubsequences: false).map { escaped(String($0)) }.joined(separator: "\t") }
            .joined(separator: "\n")
    }
}
