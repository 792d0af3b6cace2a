import CX11Shim
import RecorderCore

/// One thread's own X connection: opened with the shim's error handlers in place, so a protocol error is
/// counted and a server that goes away marks the connection lost instead of ending the process.
///
/// Capture, the state sampler and the tests each open their own and use it only on the thread that opened
/// it (no XInitThreads needed).
public final class XConnection {
    public let display: OpaquePointer
    /// The display name as Xlib resolved it (e.g. ":5"), for messages.
    public let name: String
    public let screen: Int32
    public let root: Window
    public let visual: UnsafeMutablePointer<Visual>
    public let depth: Int32
    /// The screen size when the connection was opened.
    public let screenWidth: Int
    public let screenHeight: Int
    /// Protocol errors already handed out by `takeNewErrors`.
    private var errorsAccounted: UInt64 = 0
    private var atoms: [String: Atom] = [:]
    private var closed = false

    /// Opens `requested` (nil: $DISPLAY).
    /// - Parameter opener: who asks, named in the error (nil: no prefix).
    public init(name requested: String?, opener: String? = nil) throws(RecorderError) {
        let resolved = String(cString: XDisplayName(requested))
        guard let display = CX11Shim_open_watched_display(requested) else {
            throw .cannotOpenDisplay(resolvedName: resolved, opener: opener)
        }
        self.display = display
        name = resolved
        screen = CX11Shim_DefaultScreen(display)
        root = CX11Shim_RootWindow(display, screen)
        visual = CX11Shim_DefaultVisual(display, screen)
        depth = CX11Shim_DefaultDepth(display, screen)
        screenWidth = Int(CX11Shim_DisplayWidth(display, screen))
        screenHeight = Int(CX11Shim_DisplayHeight(display, screen))
    }

    deinit { close() }

    /// True once the server went away; no more requests should be made then.
    public var isLost: Bool { CX11Shim_display_lost(display) }

    /// Protocol errors seen since the connection opened.
    public var errorCount: UInt64 { CX11Shim_error_count(display) }

    /// Protocol errors seen since the last call.
    public func takeNewErrors() -> UInt64 {
        let total = errorCount
        defer { errorsAccounted = total }
        return total &- errorsAccounted
    }

    /// The most recent protocol error, as "X error E on request R (resource 0x...)".
    public var lastErrorDescription: String {
        var code: UInt8 = 0
        var request: UInt8 = 0
        var resource: UInt = 0
        guard CX11Shim_last_error(display, &code, &request, &resource) != 0 else { return "no X error" }
        return "X error \(code) on request \(request) (resource 0x\(String(resource, radix: 16)))"
    }

    /// The socket's file descriptor in this process.
    public var fileDescriptor: Int32 { CX11Shim_ConnectionNumber(display) }

    /// The XID base the server gave this connection: distinct for every client connection.
    public var resourceBase: UInt64 { UInt64(CX11Shim_state_resource_base(display)) }

    /// The atom named `name`, interned once per connection.
    public func atom(_ name: String) -> Atom {
        if let known = atoms[name] { return known }
        let atom = XInternAtom(display, name, 0)
        atoms[name] = atom
        return atom
    }

    /// Waits until the server has handled every request sent so far.
    public func sync() { XSync(display, 0) }

    /// Closes the connection; after a lost connection only client-side memory is released. Later calls do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        let lost = isLost
        CX11Shim_unwatch_display(display)
        if !lost { XCloseDisplay(display) }
    }
}
