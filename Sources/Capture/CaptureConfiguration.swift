import RecorderCore

/// What the capture thread grabs, how often, and how many frames may be in flight.
public struct CaptureConfiguration: Sendable {
    /// X display name; nil means $DISPLAY.
    public var display: String?
    /// Frames per second of the schedule grid.
    public var fps: Int
    /// A fixed rectangle of the screen, or nil.
    public var region: PixelRect?
    /// Text matched against window titles and WM_CLASS, or nil.
    public var window: String?
    /// Ring slots (each one shared-memory segment); a power of two, equal to the FrameChannel's capacity.
    public var slotCount: Int
    /// Per-frame timings for the benchmark; nil in normal sessions.
    public var timings: CaptureTimings?
    /// Grab with XGetImage even where MIT-SHM works (also forced by RECORDER_DISABLE_SHM=1). A field, so
    /// tests running in parallel in one process never change the environment under each other.
    public var forbidSharedMemory: Bool

    public init(display: String?, fps: Int, region: PixelRect?, window: String?, slotCount: Int = 8,
                forbidSharedMemory: Bool = false) {
        self.display = display
        self.fps = fps
        self.region = region
        self.window = window
        self.slotCount = slotCount
        self.timings = nil
        self.forbidSharedMemory = forbidSharedMemory
    }

    /// The target as `/video`'s `target` attribute spells it.
    var targetDescription: String {
        if let window { return "window \(window)" }
        if let region { return "region \(region)" }
        return "screen"
    }
}
