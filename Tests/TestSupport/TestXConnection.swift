import CX11Shim
import RecorderCore
import X11Support

/// The test's own X connection to a private Xvfb, for painting pixels, making windows and moving the
/// pointer while a capture or a sampler runs on its own connection.
///
/// Used only by the thread that created it. Close it before the server goes away; a connection the
/// server already dropped is only unwatched, never touched again.
public final class TestXConnection {
    public let connection: XConnection
    public let gc: GC
    private var closed = false

    public var display: OpaquePointer { connection.display }
    public var screen: Int32 { connection.screen }
    public var root: Window { connection.root }

    public init(_ name: String) throws {
        connection = try XConnection(name: name, opener: "test")
        gc = XCreateGC(connection.display, connection.root, 0, nil)
    }

    deinit { close() }

    /// Closes the connection; later calls do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        if !connection.isLost { XFreeGC(display, gc) }
        connection.close()
    }

    /// X protocol errors this connection has received.
    public var errorCount: UInt64 { connection.errorCount }

    /// Waits until the server has handled every request sent so far.
    public func sync() { connection.sync() }

    public func warpPointer(x: Int, y: Int) {
        XWarpPointer(display, 0, root, 0, 0, 0, 0, Int32(x), Int32(y))
        sync()
    }
}
