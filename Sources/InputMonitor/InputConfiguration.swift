import RecorderCore

/// What the input thread records and how: sources, key redaction, focus filter, device folder.
public struct InputConfiguration: Sendable {
    public var sources: [SessionOptions.InputSource]
    /// Replace the codes of ordinary character keys (as `libinput record` does) and flag the events.
    public var redactKeys: Bool
    /// Store input only while the focused window's title or WM_CLASS contains this text.
    public var focusFilter: String?
    /// Folder scanned and watched for `event*` nodes by the `auto` source.
    public var devicesDirectory: String

    public init(
        sources: [SessionOptions.InputSource], redactKeys: Bool = false, focusFilter: String? = nil,
        devicesDirectory: String = "/dev/input"
    ) {
        self.sources = sources
        self.redactKeys = redactKeys
        self.focusFilter = focusFilter
        self.devicesDirectory = devicesDirectory
    }
}
