import CX11Shim
import Logging
import RecorderCore
import X11Support
#if canImport(Glibc)
import Glibc
#endif

/// Grabs the screen into pool slots: XShmGetImage straight into a slot's segment, or XGetImage plus a copy
/// when MIT-SHM is missing. Lives on the capture thread with its connection.
final class FrameGrabber {
    private let connection: CaptureConnection
    let pool: SlotPool
    let width: Int
    let height: Int
    let bytesPerLine: Int
    var usesSharedMemory: Bool { pool.usesSharedMemory }
    /// One image header per slot over the slot's segment (shared memory only).
    private var images: [SharedMemoryImage] = []

    /// Allocates `slotCount` slots of `width` x `height` BGRX pixels and attaches them to the server.
    init(connection: CaptureConnection, width: Int, height: Int, slotCount: Int, forbidSharedMemory: Bool, logger: Logger) throws(RecorderError) {
        self.connection = connection
        self.width = width
        self.height = height
        let display = connection.display
        var reason: String?
        if forbidSharedMemory {
            reason = "MIT-SHM forbidden (RECORDER_DISABLE_SHM=1 or the capture configuration)"
        } else if XShmQueryExtension(display) == 0 {
            reason = "the X server has no MIT-SHM extension"
        }
        if reason == nil {
            switch FrameGrabber.attachSharedSlots(connection: connection, width: width, height: height, slotCount: slotCount) {
            case .attached(let attached):
                pool = attached.pool
                images = attached.images
                bytesPerLine = width * 4
                return
            case .unavailable(let why):
                reason = why
            case .unsupported(let error):
                throw error
            }
        }
        logger.warning("capture without MIT-SHM (\(reason ?? "?")): frames are fetched with XGetImage and copied, which costs more CPU per frame")
        bytesPerLine = width * 4
        pool = SlotPool.plainMemory(count: slotCount, slotBytes: bytesPerLine * height)
    }

    private struct SharedSlots {
        var pool: SlotPool
        var images: [SharedMemoryImage]
    }

    /// How setting up shared-memory slots ended.
    private enum SharedSetup {
        case attached(SharedSlots)
        /// MIT-SHM cannot be used here; the copying fallback can.
        case unavailable(String)
        /// The screen's pixel format cannot be recorded at all.
        case unsupported(RecorderError)
    }

    private static func attachSharedSlots(connection: CaptureConnection, width: Int, height: Int, slotCount: Int) -> SharedSetup {
        let x = connection.connection
        // A probe header tells the server's pixel size before any memory is allocated.
        guard let bitsPerPixel = SharedMemoryImage.bitsPerPixel(on: x, width: width, height: height) else {
            return .unavailable("XShmCreateImage refused a \(width)x\(height) image")
        }
        guard bitsPerPixel == 32 else {
            return .unsupported(.display("display \(connection.name) stores \(bitsPerPixel) bits per pixel; the recorder needs 32 (BGRX)"))
        }
        let pool: SlotPool
        do {
            pool = try SlotPool.sharedMemory(count: slotCount, slotBytes: width * 4 * height)
        } catch {
            return .unavailable(error.description)
        }
        var images: [SharedMemoryImage] = []
        for segment in pool.segments {
            guard let image = SharedMemoryImage(connection: x, segment: segment, width: width, height: height) else {
                return .unavailable("XShmCreateImage refused a \(width)x\(height) image")
            }
            images.append(image)
        }
        if let failure = x.attach(images) { return .unavailable(failure) }
        return .attached(SharedSlots(pool: pool, images: images))
    }

    /// Fills `slot` with the screen content of `target`, of which only `content` (screen coordinates)
    /// holds the target's pixels; everything else in the frame is black.
    /// - Returns: nil when the request failed, else whether the frame was clipped (padded with black).
    func grab(into slot: Int, target: PixelRect, content: PixelRect) -> Bool? {
        let screen = PixelRect(x: 0, y: 0, width: connection.screenWidth, height: connection.screenHeight)
        let visible = content.intersection(target).intersection(screen)
        let whole = visible == target
        let base = pool.addresses[slot]
        if visible.isEmpty {
            memset(base, 0, bytesPerLine * height)
            return true
        }
        if usesSharedMemory {
            if whole {
                return images[slot].grab(target, from: connection.root, on: connection.connection) ? false : nil
            }
            return grabClippedShared(slot: slot, target: target, visible: visible) ? true : nil
        }
        return grabCopying(slot: slot, target: target, visible: visible) ? !whole : nil
    }

    /// XShmGetImage of the visible part into the slot's start, then rows moved into place (last row first,
    /// so no row is overwritten before it moved) and the rest blacked out.
    private func grabClippedShared(slot: Int, target: PixelRect, visible: PixelRect) -> Bool {
        guard images[slot].grab(visible, from: connection.root, on: connection.connection) else { return false }
        let base = pool.addresses[slot]
        placeRows(base: base, source: UnsafeRawPointer(base), sourceStride: visible.width * 4, target: target, visible: visible)
        return true
    }

    /// XGetImage (the server's reply lands in Xlib's buffer) copied row by row into the slot.
    private func grabCopying(slot: Int, target: PixelRect, visible: PixelRect) -> Bool {
        guard let image = XGetImage(connection.display, connection.root, Int32(visible.x), Int32(visible.y),
                                    UInt32(visible.width), UInt32(visible.height), CX11Shim_AllPlanes(), ZPixmap) else {
            return false
        }
        defer { CX11Shim_XDestroyImage(image) }
        guard image.pointee.bits_per_pixel == 32, let data = image.pointee.data else { return false }
        placeRows(base: pool.addresses[slot], source: UnsafeRawPointer(data), sourceStride: Int(image.pointee.bytes_per_line),
                  target: target, visible: visible)
        return true
    }

    /// Moves `visible.height` rows of `visible.width` pixels from `source` to their place in the frame and
    /// blacks out the rest. Works in place when `source` is the slot's start (rows go last to first).
    private func placeRows(base: UnsafeMutableRawPointer, source: UnsafeRawPointer, sourceStride: Int, target: PixelRect, visible: PixelRect) {
        let left = visible.x - target.x
        let top = visible.y - target.y
        let rowBytes = visible.width * 4
        for row in stride(from: visible.height - 1, through: 0, by: -1) {
            memmove(base + (top + row) * bytesPerLine + left * 4, source + row * sourceStride, rowBytes)
        }
        if top > 0 { memset(base, 0, top * bytesPerLine) }
        let bottom = top + visible.height
        if bottom < height { memset(base + bottom * bytesPerLine, 0, (height - bottom) * bytesPerLine) }
        let rightStart = (left + visible.width) * 4
        for row in top..<bottom {
            let line = base + row * bytesPerLine
            if left > 0 { memset(line, 0, left * 4) }
            if rightStart < bytesPerLine { memset(line + rightStart, 0, bytesPerLine - rightStart) }
        }
    }

    /// Detaches the segments from the server (skipped when the connection is lost) and frees the headers.
    /// The pool's mappings stay until the pool itself goes.
    func release() {
        connection.connection.release(images)
        images = []
    }
}
