import CX11
import CX11Shim
import RecorderCore

/// The capture thread's own X connection and the screen facts read from it.
///
/// Opened on the capture thread and used only there (no XInitThreads needed); every X error is
/// counted by the shim's handlers instead of ending the process.
final class CaptureConnection {
    let display: OpaquePointer
    /// The display name as Xlib resolved it (e.g. ":5"), for messages.
    let name: String
    let screen: Int32
    let root: Window
    let visual: UnsafeMutablePointer<Visual>
    let depth: Int32
    /// Current screen size; updated from RandR / root ConfigureNotify events.
    var screenWidth: Int
    var screenHeight: Int
    /// First RandR event number, or nil without the extension.
    let randrEventBase: Int32?
    let netWMNameAtom: Atom
    let utf8StringAtom: Atom
    /// Protocol errors already accounted for.
    private(set) var errorsAccounted: UInt64 = 0

    /// Opens `name` (nil: $DISPLAY) and checks the visual is 24/32-bit TrueColor BGRX.
    init(name requested: String?) throws(RecorderError) {
        let resolved = String(cString: XDisplayName(requested))
        guard let display = CX11Shim_open_watched_display(requested) else {
            throw .cannotOpenDisplay(resolvedName: resolved)
        }
        self.display = display
        self.name = resolved
        screen = CX11Shim_DefaultScreen(display)
        root = CX11Shim_RootWindow(display, screen)
        visual = CX11Shim_DefaultVisual(display, screen)
        depth = CX11Shim_DefaultDepth(display, screen)
        screenWidth = Int(CX11Shim_DisplayWidth(display, screen))
        screenHeight = Int(CX11Shim_DisplayHeight(display, screen))
        netWMNameAtom = XInternAtom(display, "_NET_WM_NAME", 0)
        utf8StringAtom = XInternAtom(display, "UTF8_STRING", 0)
        var eventBase: Int32 = 0
        var errorBase: Int32 = 0
        randrEventBase = XRRQueryExtension(display, &eventBase, &errorBase) != 0 ? eventBase : nil

        let visualClass = CX11Shim_visual_class(visual)
        let masks = (visual.pointee.red_mask, visual.pointee.green_mask, visual.pointee.blue_mask)
        guard visualClass == TrueColor, depth == 24 || depth == 32,
              masks == (0xff0000, 0xff00, 0xff), CX11Shim_ImageByteOrder(display) == LSBFirst else {
            let description = "depth \(depth), class \(visualClass), masks "
                + "\(String(masks.0, radix: 16))/\(String(masks.1, radix: 16))/\(String(masks.2, radix: 16))"
            close(lost: false)
            throw .display("display \(resolved) has an unsupported visual (\(description)); the recorder needs "
                + "24/32-bit TrueColor with masks ff0000/ff00/ff, little-endian")
        }
        // Screen size changes arrive as root ConfigureNotify and, with RandR, RRScreenChangeNotify.
        XSelectInput(display, root, StructureNotifyMask)
        if randrEventBase != nil { XRRSelectInput(display, root, Int32(RRScreenChangeNotifyMask)) }
    }

    /// True once the server went away; no more requests should be made then.
    var isLost: Bool { CX11Shim_display_lost(display) }

    /// Protocol errors seen since the last call (each is also counted in the session statistics).
    func takeNewErrors() -> UInt64 {
        let total = CX11Shim_error_count(display)
        defer { errorsAccounted = total }
        return total &- errorsAccounted
    }

    /// The most recent protocol error, as "error E on request R".
    var lastErrorDescription: String {
        var code: UInt8 = 0
        var request: UInt8 = 0
        var resource: UInt = 0
        guard CX11Shim_last_error(display, &code, &request, &resource) != 0 else { return "no X error" }
        return "X error \(code) on request \(request) (resource 0x\(String(resource, radix: 16)))"
    }

    /// Closes the connection; after a lost connection only client-side memory is released.
    func close(lost: Bool) {
        CX11Shim_unwatch_display(display)
        if !lost { XCloseDisplay(display) }
    }
}
