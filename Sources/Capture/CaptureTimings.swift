import Synchronization

/// Per-frame timings the capture thread records for the benchmark: how late it woke and how long the grab took.
///
/// Written only by the capture thread; read by others after `count` (acquire) says how many entries are complete.
public final class CaptureTimings: @unchecked Sendable {
    // @unchecked Sendable: entry i is written once by the capture thread before `count` is released past i;
    // readers only read entries below an acquired `count`.
    private let wakeLateness: UnsafeMutablePointer<Int64>
    private let grabDuration: UnsafeMutablePointer<Int64>
    private let imageDuration: UnsafeMutablePointer<Int64>
    private let recorded = Atomic<Int>(0)
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        wakeLateness = .allocate(capacity: capacity)
        grabDuration = .allocate(capacity: capacity)
        imageDuration = .allocate(capacity: capacity)
    }

    deinit {
        wakeLateness.deallocate()
        grabDuration.deallocate()
        imageDuration.deallocate()
    }

    /// Entries recorded so far.
    public var count: Int { recorded.load(ordering: .acquiring) }

    /// Appends one frame's figures (capture thread only); ignored once full.
    func record(wakeLatenessNs: Int64, grabNs: Int64, imageNs: Int64) {
        let i = recorded.load(ordering: .relaxed)
        guard i < capacity else { return }
        wakeLateness[i] = wakeLatenessNs
        grabDuration[i] = grabNs
        imageDuration[i] = imageNs
        recorded.store(i + 1, ordering: .releasing)
    }

    /// Nanoseconds between each deadline and the moment the thread woke for it.
    public var wakeLatenessNs: [Int64] { Array(UnsafeBufferPointer(start: wakeLateness, count: count)) }
    /// Nanoseconds each frame's X work took: the pointer query plus the image.
    public var grabDurationNs: [Int64] { Array(UnsafeBufferPointer(start: grabDuration, count: count)) }
    /// Nanoseconds of the image request alone (XShmGetImage, or XGetImage plus copy).
    public var imageDurationNs: [Int64] { Array(UnsafeBufferPointer(start: imageDuration, count: count)) }
}
