/// One grabbed screen image, handed from the capture thread to the writer without copying.
///
/// `pixels` points into a shared-memory slot owned by the capture thread's slot pool; the
/// writer reads it in place and then returns `slot` through `FrameChannel.released`.
public struct CapturedFrame: BitwiseCopyable {
    /// BGRX, 4 bytes per pixel, `bytesPerLine` bytes per row, `width` x `height` pixels.
    public var pixels: UnsafeRawPointer
    /// The pool slot holding `pixels`; the writer hands it back when done.
    public var slot: Int32
    public var width: Int32
    public var height: Int32
    public var bytesPerLine: Int32
    /// 0-based slot of the fps schedule; a jump means dropped slots.
    public var tick: Int64
    /// CLOCK_MONOTONIC time at which the grab started.
    public var timestampNs: Int64
    /// Cursor position relative to the captured rectangle's top-left (may lie outside it).
    public var cursorX: Int32
    public var cursorY: Int32
    /// Where the captured rectangle was on the screen at grab time.
    public var originX: Int32
    public var originY: Int32
    /// `CapturedFrame.Flags` bits.
    public var flags: UInt32

    /// Bits of `flags`.
    public enum Flags {
        /// The pointer is on another screen or unknown.
        public static let cursorUnknown: UInt32 = 1 << 0
        /// The target (window or region) was only partly on screen; the rest is black.
        public static let clipped: UInt32 = 1 << 1
        /// Grabbed with XGetImage because MIT-SHM is not available.
        public static let withoutSharedMemory: UInt32 = 1 << 2
        /// Set by the writer: the chunk was compressed at the session's fast level (the compressors were behind).
        public static let compressedFast: UInt32 = 1 << 3
        /// Set by the writer: the chunk is stored unfiltered (filter mask 1; the compressors were far behind).
        public static let storedUnfiltered: UInt32 = 1 << 4
    }

    public init(
        pixels: UnsafeRawPointer, slot: Int32, width: Int32, height: Int32, bytesPerLine: Int32,
        tick: Int64, timestampNs: Int64, cursorX: Int32, cursorY: Int32,
        originX: Int32, originY: Int32, flags: UInt32
    ) {
        self.pixels = pixels
        self.slot = slot
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.tick = tick
        self.timestampNs = timestampNs
        self.cursorX = cursorX
        self.cursorY = cursorY
        self.originX = originX
        self.originY = originY
        self.flags = flags
    }
}

/// The two rings between capture and writer: filled frames one way, free slot numbers back.
public final class FrameChannel: Sendable {
    /// Capture pushes grabbed frames; the writer pops them.
    public let filled: SPSCRing<CapturedFrame>
    /// The writer pushes slots it has finished with; capture pops them to grab into.
    public let released: SPSCRing<Int32>

    public init(slotCount: Int, doorbell: Doorbell) {
        filled = SPSCRing(capacity: slotCount, doorbell: doorbell)
        released = SPSCRing(capacity: slotCount)
    }
}

/// The shape of every frame in a session, fixed when the capture thread starts.
public struct FrameGeometry: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int
    /// False when the display has no MIT-SHM and frames come from XGetImage.
    public var usesSharedMemory: Bool
    /// What is captured, for the file: "screen", "region X,Y,W,H" or "window TEXT".
    public var target: String

    public init(width: Int, height: Int, usesSharedMemory: Bool, target: String) {
        self.width = width
        self.height = height
        self.usesSharedMemory = usesSharedMemory
        self.target = target
    }
}
