import CX11Shim
import RecorderCore

/// The test's own X connection to a private Xvfb, for painting pixels, making windows and moving the
/// pointer while a capture or a sampler runs on its own connection.
///
/// Used only by the thread that created it. Close it before the server goes away; a connection the
/// server already dropped is only unwatched, never touched again.
public final class TestXConnection {
    public let display: OpaquePointer
    public let screen: Int32
    public let root: Window
    public let gc: GC
    private var closed = false

    public init(_ name: String) throws {
        guard let display = CX11Shim_open_watched_display(name) else { throw RecorderError.display("test cannot open \(name)") }
        self.display = display
        screen = CX11Shim_DefaultScreen(display)
        root = CX11Shim_RootWindow(display, screen)
        gc = XCreateGC(display, root, 0, nil)
    }

    deinit { close() }

    /// Closes the connection; later calls do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        let lost = CX11Shim_display_lost(display)
        CX11Shim_unwatch_display(display)
        if !lost {
            XFreeGC(display, gc)
            XCloseDisplay(display)
        }
    }

    /// X protocol errors this connection has received.
    public var errorCount: UInt64 { CX11Shim_error_count(display) }

    /// Waits until the server has handled every request sent so far.
    public func sync() { XSync(display, 0) }

    public func warpPointer(x: Int, y: Int) {
        XWarpPointer(display, 0, root, 0, 0, 0, 0, Int32(x), Int32(y))
        sync()
    }
}
