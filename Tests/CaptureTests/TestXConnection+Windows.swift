import CX11Shim
import Foundation
import RecorderCore
import TestSupport
import X11Support

/// Painting and window handling for the capture tests.
extension TestXConnection {
    /// Draws `image` (BGRX) at (x, y) of `drawable` with XPutImage and waits until the server did it.
    func put(_ image: TestImage, on drawable: Drawable, x: Int = 0, y: Int = 0) {
        image.bytes.withUnsafeBufferPointer { buffer in
            let data = UnsafeMutableRawPointer(mutating: buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let ximage = XCreateImage(display, CX11Shim_DefaultVisual(display, screen), 24, ZPixmap, 0, data,
                                      UInt32(image.width), UInt32(image.height), 32, Int32(image.width * 4))!
            XPutImage(display, drawable, gc, ximage, 0, 0, Int32(x), Int32(y), UInt32(image.width), UInt32(image.height))
            CX11Shim_destroy_image_header(ximage)
        }
        sync()
    }

    /// A top-level window whose background is `image` (so the server repaints it after every move),
    /// named `title` with WM_CLASS `className`, mapped at (x, y).
    func createWindow(_ image: TestImage, x: Int, y: Int, title: String, className: String = "RecorderTest") -> Window {
        let window = XCreateSimpleWindow(display, root, Int32(x), Int32(y), UInt32(image.width), UInt32(image.height), 0, 0, 0)
        let pixmap = XCreatePixmap(display, root, UInt32(image.width), UInt32(image.height), 24)
        put(image, on: pixmap)
        XSetWindowBackgroundPixmap(display, window, pixmap)
        XFreePixmap(display, pixmap)
        XStoreName(display, window, title)
        var hint = XClassHint()
        title.withCString { name in
            className.withCString { cls in
                hint.res_name = UnsafeMutablePointer(mutating: name)
                hint.res_class = UnsafeMutablePointer(mutating: cls)
                XSetClassHint(display, window, &hint)
            }
        }
        XMapWindow(display, window)
        sync()
        return window
    }

    /// Sets WM_NAME as ICCCM types it: STRING, one ISO 8859-1 byte per character (XStoreName would pass
    /// Swift's UTF-8 bytes through unchanged).
    func setLatin1Title(_ window: Window, _ title: String) {
        let latin1 = title.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
        XChangeProperty(display, window, connection.atom("WM_NAME"), connection.atom("STRING"), 8, PropModeReplace, latin1, Int32(latin1.count))
        sync()
    }

    func move(_ window: Window, x: Int, y: Int) {
        XMoveWindow(display, window, Int32(x), Int32(y))
        sync()
    }

    func resize(_ window: Window, width: Int, height: Int) {
        XResizeWindow(display, window, UInt32(width), UInt32(height))
        sync()
    }

    func unmap(_ window: Window) {
        XUnmapWindow(display, window)
        sync()
    }

    func map(_ window: Window) {
        XMapWindow(display, window)
        sync()
    }

    func destroy(_ window: Window) {
        XDestroyWindow(display, window)
        sync()
    }

}

/// A private Xvfb plus the test's connection to it, both gone when the fixture goes.
///
/// Xvfb is started from a thread that blocks SIGTERM, so `XvfbDisplay.stop()` (SIGTERM) can wait forever;
/// the fixture ends it with SIGKILL instead.
final class DisplayFixture {
    let xvfb: XvfbDisplay
    let client: TestXConnection
    var name: String { xvfb.name }

    init(width: Int = 640, height: Int = 480) throws {
        xvfb = try XvfbDisplay(width: width, height: height)
        client = try TestXConnection(xvfb.name)
    }

    deinit {
        client.close()
        xvfb.kill()
    }
}

/// A BGRX image with deterministic random pixels (X = 0).
struct TestImage {
    let width: Int
    let height: Int
    var bytes: [UInt8]

    init(width: Int, height: Int, seed: UInt64) {
        self.width = width
        self.height = height
        var state = seed
        var bytes = [UInt8](repeating: 0, count: width * height * 4)
        for pixel in 0..<(width * height) {
            // SplitMix64: cheap, reproducible noise.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            bytes[pixel * 4] = UInt8(truncatingIfNeeded: z)
            bytes[pixel * 4 + 1] = UInt8(truncatingIfNeeded: z >> 8)
            bytes[pixel * 4 + 2] = UInt8(truncatingIfNeeded: z >> 16)
        }
        self.bytes = bytes
    }

    /// The sub-rectangle at (x, y) of size w x h.
    func crop(x: Int, y: Int, width w: Int, height h: Int) -> TestImage {
        var out = TestImage(width: w, height: h, seed: 0)
        for row in 0..<h {
            let from = ((y + row) * width + x) * 4
            out.bytes.replaceSubrange(row * w * 4..<(row + 1) * w * 4, with: bytes[from..<from + w * 4])
        }
        return out
    }
}

extension CapturedFrame {
    /// True when every pixel equals `image` (all four bytes).
    func equals(_ image: TestImage) -> Bool {
        guard Int(width) == image.width, Int(height) == image.height else { return false }
        let rowBytes = image.width * 4
        return image.bytes.withUnsafeBytes { expected in
            (0..<image.height).allSatisfy { row in
                memcmp(pixels + row * Int(bytesPerLine), expected.baseAddress! + row * rowBytes, rowBytes) == 0
            }
        }
    }

    /// The 4 bytes of pixel (x, y).
    func pixel(x: Int, y: Int) -> [UInt8] {
        let p = pixels + y * Int(bytesPerLine) + x * 4
        return (0..<4).map { p.load(fromByteOffset: $0, as: UInt8.self) }
    }
}
