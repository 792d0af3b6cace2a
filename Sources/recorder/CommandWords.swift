import RecorderCore

/// Splits one command-line string into argv the way a POSIX shell splits words, without running one:
/// blanks separate words, '...' keeps everything literal, "..." and \ escape the next character.
/// No expansion of any kind ($, *, ~), so `{path}` placeholders arrive intact.
enum CommandWords {
    static func split(_ text: String) throws(RecorderError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                word.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case ("'", "'"), ("\"", "\""): quote = nil
            case ("'", _): word.append(character)
            case (_, "\\"): escaped = true; inWord = true
            case ("\"", _): word.append(character)
            case (nil, "'"), (nil, "\""): quote = character; inWord = true
            case (nil, " "), (nil, "\t"), (nil, "\n"):
                if inWord { words.append(word) }
                word = ""
                inWord = false
            default:
                word.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { throw .invalidConfiguration("--on-part-sealed: unterminated quote or trailing backslash") }
        if inWord { words.append(word) }
        guard !words.isEmpty else { throw .invalidConfiguration("--on-part-sealed needs a command") }
        return words
    }
}
