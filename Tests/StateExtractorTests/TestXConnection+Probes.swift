import CX11
import CX11Shim
import Foundation
import RecorderCore
import StateExtractor
import TestSupport

/// Filling, painting, windows and focus for the state sampler tests.
extension TestXConnection {
    var resourceBase: UInt64 { connection.resourceBase }
    var connectionNumber: Int32 { connection.fileDescriptor }

    /// Fills a rectangle of the root window and waits until the server has done it.
    func fill(_ x: Int, _ y: Int, _ width: Int, _ height: Int, _ color: RGBColor, on drawable: Window? = nil) {
        XSetForeground(display, gc, UInt(color.red) << 16 | UInt(color.green) << 8 | UInt(color.blue))
        XFillRectangle(display, drawable ?? root, gc, Int32(x), Int32(y), UInt32(width), UInt32(height))
        sync()
    }

    /// Paints `image` pixel by pixel with its top-left at (x, y).
    func paint(_ image: RGBImage, at x: Int, _ y: Int) {
        for row in 0..<image.height {
            for column in 0..<image.width {
                let color = image[column, row]
                XSetForeground(display, gc, UInt(color.red) << 16 | UInt(color.green) << 8 | UInt(color.blue))
                XFillRectangle(display, root, gc, Int32(x + column), Int32(y + row), 1, 1)
            }
        }
        sync()
    }

    /// Maps an override-redirect-free top-level window with the given properties (no window manager runs).
    func makeWindow(x: Int, y: Int, width: Int, height: Int, title: String, utf8Title: String?, instance: String, className: String, pid: Int) -> Window {
        let window = XCreateSimpleWindow(display, root, Int32(x), Int32(y), UInt32(width), UInt32(height), 0, 0, 0x336699)
        // WM_NAME is Latin-1 (type STRING); XStoreName would pass Swift's UTF-8 bytes through unchanged.
        let latin1 = title.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
        XChangeProperty(display, window, atom("WM_NAME"), atom("STRING"), 8, PropModeReplace, latin1, Int32(latin1.count))
        if let utf8Title {
            let bytes = Array(utf8Title.utf8)
            XChangeProperty(display, window, atom("_NET_WM_NAME"), atom("UTF8_STRING"), 8, PropModeReplace, bytes, Int32(bytes.count))
        }
        let classBytes = Array((instance + "\0" + className + "\0").utf8)
        XChangeProperty(display, window, atom("WM_CLASS"), atom("STRING"), 8, PropModeReplace, classBytes, Int32(classBytes.count))
        var pidValue = UInt(pid)  // format-32 data goes in as C longs
        withUnsafeBytes(of: &pidValue) { raw in
            _ = XChangeProperty(display, window, atom("_NET_WM_PID"), atom("CARDINAL"), 32, PropModeReplace,
                                raw.baseAddress!.assumingMemoryBound(to: UInt8.self), 1)
        }
        XMapWindow(display, window)
        sync()
        return window
    }

    func focus(_ window: Window) {
        XSetInputFocus(display, window, RevertToParent, 0)
        sync()
    }

    func atom(_ name: String) -> Atom { connection.atom(name) }
}
