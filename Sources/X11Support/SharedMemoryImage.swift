import CX11Shim
import RecorderCore

/// A 32-bit ZPixmap XImage header over a `SharedMemorySegment`: XShmGetImage writes straight into the segment.
///
/// A grab may read any sub-rectangle that fits the segment; its rows land packed from the segment's start
/// (`width * 4` bytes apart). Attach and release go through `XConnection` so a batch costs one round trip.
public final class SharedMemoryImage {
    public let segment: SharedMemorySegment
    private let image: UnsafeMutablePointer<XImage>
    private let info: UnsafeMutablePointer<XShmSegmentInfo>
    private var released = false

    /// Bits per pixel the server stores for a `width` x `height` image of the connection's visual (the recorder
    /// reads only 32); nil when XShmCreateImage refuses the size.
    public static func bitsPerPixel(on connection: XConnection, width: Int, height: Int) -> Int? {
        guard let probe = XShmCreateImage(connection.display, connection.visual, UInt32(connection.depth), ZPixmap, nil, nil,
                                          UInt32(width), UInt32(height)) else { return nil }
        defer { CX11Shim_destroy_image_header(probe) }
        return Int(probe.pointee.bits_per_pixel)
    }

    /// A header of `width` x `height` over `segment`, not yet attached; nil when XShmCreateImage refuses it.
    public init?(connection: XConnection, segment: SharedMemorySegment, width: Int, height: Int) {
        guard width * height * 4 <= segment.byteCount else { return nil }
        let info = UnsafeMutablePointer<XShmSegmentInfo>.allocate(capacity: 1)
        info.initialize(to: XShmSegmentInfo())
        info.pointee.shmid = segment.id
        info.pointee.shmaddr = segment.address.assumingMemoryBound(to: CChar.self)
        info.pointee.readOnly = 0
        guard let image = XShmCreateImage(connection.display, connection.visual, UInt32(connection.depth), ZPixmap,
                                          info.pointee.shmaddr, info, UInt32(width), UInt32(height)),
              image.pointee.bits_per_pixel == 32 else {
            info.deallocate()
            return nil
        }
        self.segment = segment
        self.image = image
        self.info = info
    }

    /// Reads `rect` of `drawable` into the segment, rows packed `rect.width * 4` bytes apart.
    /// - Returns: false when the request failed (X error, lost display) or the rectangle does not fit.
    public func grab(_ rect: PixelRect, from drawable: Window, on connection: XConnection) -> Bool {
        guard rect.width > 0, rect.height > 0, rect.width * rect.height * 4 <= segment.byteCount else { return false }
        image.pointee.width = Int32(rect.width)
        image.pointee.height = Int32(rect.height)
        image.pointee.bytes_per_line = Int32(rect.width * 4)
        return XShmGetImage(connection.display, drawable, image, Int32(rect.x), Int32(rect.y), CX11Shim_AllPlanes()) != 0
    }

    /// The header as Xlib sees it after the last grab (byte order, pixel data).
    public var xImage: UnsafeMutablePointer<XImage> { image }

    fileprivate func attach(on display: OpaquePointer) { XShmAttach(display, info) }
    fileprivate func detach(on display: OpaquePointer) { XShmDetach(display, info) }

    /// Frees the header (never the segment's pixels); later calls do nothing.
    fileprivate func freeHeader() {
        guard !released else { return }
        released = true
        CX11Shim_destroy_image_header(image)
        info.deallocate()
    }

    deinit { freeHeader() }
}

extension XConnection {
    /// Attaches every image's segment to the server in one round trip, then marks the segments for removal.
    /// - Returns: nil on success, else why the server refused (the images are released then).
    public func attach(_ images: [SharedMemoryImage]) -> String? {
        _ = takeNewErrors()
        for image in images { image.attach(on: display) }
        sync()
        // A remote server accepts the request and fails it (BadAccess) asynchronously: the sync brings the error.
        let errors = takeNewErrors()
        for image in images { image.segment.markForRemoval() }
        guard errors > 0 || isLost else { return nil }
        let detail = lastErrorDescription
        release(images)
        _ = takeNewErrors()
        return "XShmAttach failed (\(detail)); the server cannot reach this process's shared memory"
    }

    /// Detaches the images from the server (skipped when the connection is lost) and frees their headers.
    public func release(_ images: [SharedMemoryImage]) {
        if !isLost, !images.isEmpty {
            for image in images { image.detach(on: display) }
            sync()
        }
        for image in images { image.freeHeader() }
    }
}
