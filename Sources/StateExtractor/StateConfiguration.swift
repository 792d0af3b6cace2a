/// What the state sampler needs to know before its thread starts.
public struct StateConfiguration: Sendable {
    /// The X display to open (`:N`); nil means `$DISPLAY`.
    public var display: String?
    /// The probe file (TOML); nil samples only the cursor and tracks the focused window.
    public var probesPath: String?
    /// Samples per second (default 5).
    public var rateHz: Double

    public init(display: String?, probesPath: String?, rateHz: Double = 5) {
        self.display = display
        self.probesPath = probesPath
        self.rateHz = rateHz
    }
}
