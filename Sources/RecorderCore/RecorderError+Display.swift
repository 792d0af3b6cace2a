extension RecorderError {
    /// "cannot open display :N", worded the same by every thread that opens its own connection.
    /// - Parameters:
    ///   - resolvedName: the name XDisplayName made of the request; empty when DISPLAY is unset.
    ///   - opener: who tried, prefixed to the message (nil: no prefix).
    public static func cannotOpenDisplay(resolvedName: String, opener: String? = nil) -> RecorderError {
        let name = resolvedName.isEmpty ? "(DISPLAY is not set)" : resolvedName
        return .display("\(opener.map { "\($0): " } ?? "")cannot open display \(name)")
    }
}
