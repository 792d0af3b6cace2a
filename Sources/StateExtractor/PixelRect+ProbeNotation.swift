import RecorderCore

extension PixelRect {
    /// `[x, y, w, h]`, as written in probe files.
    var probeNotation: String { "[\(x), \(y), \(width), \(height)]" }
}
