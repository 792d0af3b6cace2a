import RecorderCore
import Testing

/// The one escaper for untrusted text on terminals and in logs.
@Suite struct TerminalTextTests {
    @Test func controlsAreShownNotSent() {
        #expect(TerminalText.escaped("plain text, tabs\tand ünïcödé") == "plain text, tabs\\x09and ünïcödé")
        #expect(TerminalText.escaped("\u{1B}[2J\u{1B}]0;title\u{07}") == "\\x1b[2J\\x1b]0;title\\x07")
        #expect(TerminalText.escaped("a\nforged log line\r") == "a\\x0aforged log line\\x0d")
        #expect(TerminalText.escaped("\u{0}\u{7F}\u{9B}31m") == "\\x00\\x7f\\x9b31m")
        #expect(TerminalText.escaped("abc\u{202E}txt.exe") == "abc\\u{202e}txt.exe")
    }

    @Test func linesKeepTheirLayout() {
        #expect(TerminalText.escapedLines("a\tb\nc\u{1B}d\n") == "a\tb\nc\\x1bd\n")
    }
}
