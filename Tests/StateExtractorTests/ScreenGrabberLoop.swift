import CX11
import CX11Shim
import RecorderCore
import Synchronization

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
        guard let display = XOpenDisplay(name) else { failures.bump(); return }
        CX11Shim_watch_display(display)
        resourceBase.store(UInt64(CX11Shim_state_resource_base(display)), ordering: .relaxed)
        let screen = CX11Shim_DefaultScreen(display)
        let root = CX11Shim_RootWindow(display, screen)
        let width = CX11Shim_DisplayWidth(display, screen), height = CX11Shim_DisplayHeight(display, screen)
        var shm = CX11Shim_state_shm()
        guard CX11Shim_state_shm_create(display, screen, width, height, &shm) == 0 else {
            failures.bump()
            XCloseDisplay(display)
            return
        }
        let start = MonotonicClock.now()
        var tick: Int64 = 0
        while !stopFlag.load(ordering: .relaxed) {
            MonotonicClock.sleep(until: start + Int64(Double(tick) * 1e9 / fps))
            if CX11Shim_state_shm_grab(display, root, &shm, 0, 0, width, height) != 0 { frames.bump() } else { failures.bump() }
            tick += 1
        }
        CX11Shim_state_shm_destroy(display, &shm, true)
        xErrors.store(Int64(CX11Shim_error_count(display)), ordering: .relaxed)
        CX11Shim_unwatch_display(display)
        XCloseDisplay(display)
    }

    func stop() -> Bool {
        stopFlag.store(true, ordering: .relaxed)
        return thread.withLock { $0 }?.join(timeoutNanoseconds: 2_000_000_000) ?? true
    }
}
