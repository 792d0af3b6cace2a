import CX11Shim
import RecorderCore
import X11Support

/// The capture thread's X connection, checked for a visual the recorder can store, and the screen size as
/// the server's events change it.
///
/// Opened on the capture thread and used only there.
final class CaptureConnection {
    let connection: XConnection
    /// Current screen size; updated from RandR / root ConfigureNotify events.
    var screenWidth: Int
    var screenHeight: Int
    /// First RandR event number, or nil without the extension.
    let randrEventBase: Int32?

    var display: OpaquePointer { connection.display }
    /// The display name as Xlib resolved it (e.g. ":5"), for messages.
    var name: String { connection.name }
    var root: Window { connection.root }

    /// Opens `name` (nil: $DISPLAY) and checks the visual is 24/32-bit TrueColor BGRX.
    init(name requested: String?) throws(RecorderError) {
        let connection = try XConnection(name: requested)
        self.connection = connection
        let display = connection.display
        screenWidth = connection.screenWidth
        screenHeight = connection.screenHeight
        var eventBase: Int32 = 0
        var errorBase: Int32 = 0
        randrEventBase = XRRQueryExtension(display, &eventBase, &errorBase) != 0 ? eventBase : nil

        let visual = connection.visual
        let depth = connection.depth
        let visualClass = CX11Shim_visual_class(visual)
        let masks = (visual.pointee.red_mask, visual.pointee.green_mask, visual.pointee.blue_mask)
        guard visualClass == TrueColor, depth == 24 || depth == 32,
              masks == (0xff0000, 0xff00, 0xff), CX11Shim_ImageByteOrder(display) == LSBFirst else {
            let description = "depth \(depth), class \(visualClass), masks "
                + "\(String(masks.0, radix: 16))/\(String(masks.1, radix: 16))/\(String(masks.2, radix: 16))"
            connection.close()
            throw .display("display \(connection.name) has an unsupported visual (\(description)); the recorder needs "
                + "24/32-bit TrueColor with masks ff0000/ff00/ff, little-endian")
        }
        // Screen size changes arrive as root ConfigureNotify and, with RandR, RRScreenChangeNotify.
        XSelectInput(display, connection.root, StructureNotifyMask)
        if randrEventBase != nil { XRRSelectInput(display, connection.root, Int32(RRScreenChangeNotifyMask)) }
    }

    /// True once the server went away; no more requests should be made then.
    var isLost: Bool { connection.isLost }

    /// Protocol errors seen since the last call (each is also counted in the session statistics).
    func takeNewErrors() -> UInt64 { connection.takeNewErrors() }

    /// The most recent protocol error, for messages.
    var lastErrorDescription: String { connection.lastErrorDescription }

    /// Closes the connection; after a lost connection only client-side memory is released.
    func close() { connection.close() }
}
