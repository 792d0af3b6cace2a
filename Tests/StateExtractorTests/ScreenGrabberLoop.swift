import RecorderCore
import Synchronization
import X11Support

/// A stand-in for the capture thread: grabs the whole screen with XShmGetImage at 60 FPS on its own connection
/// and its own thread, counting frames and X errors.
final class ScreenGrabberLoop: Sendable {
    let frames = Atomic<Int64>(0)
    let failures = Atomic<Int64>(0)
    let xErrors = Atomic<Int64>(0)
    /// The connection's XID base, to compare with the state worker's.
    let resourceBase = Atomic<UInt64>(0)
    private let stopFlag = Atomic<Bool>(false)
    private let thread = Mutex<NamedThread?>(nil)

    init() {}

    /// Starts grabbing `display` on a new thread.
    func start(display name: String, fps: Double = 60) throws {
        let spawned = try NamedThread.spawn(name: "test-grab60") { [self] in run(display: name, fps: fps) }
        thread.withLock { $0 = spawned }
    }

    private func run(display name: String, fps: Double) {
        guard let connection = try? XConnection(name: name) else { failures.bump(); return }
        defer { connection.close() }
        resourceBase.store(connection.resourceBase, ordering: .relaxed)
        let screen = PixelRect(x: 0, y: 0, width: connection.screenWidth, height: connection.screenHeight)
        guard let segment = try? SharedMemorySegment(byteCount: screen.area * 4),
              let image = SharedMemoryImage(connection: connection, segment: segment, width: screen.width, height: screen.height),
              connection.attach([image]) == nil else {
            failures.bump()
            return
        }
        let start = MonotonicClock.now()
        var tick: Int64 = 0
        while !stopFlag.load(ordering: .relaxed) {
            MonotonicClock.sleep(until: start + Int64(Double(tick) * 1e9 / fps))
            if image.grab(screen, from: connection.root, on: connection) { frames.bump() } else { failures.bump() }
            tick += 1
        }
        connection.release([image])
        xErrors.store(Int64(connection.errorCount), ordering: .relaxed)
    }

    func stop() -> Bool {
        stopFlag.store(true, ordering: .relaxed)
        return thread.withLock { $0 }?.join(timeoutNanoseconds: 2_000_000_000) ?? true
    }
}
