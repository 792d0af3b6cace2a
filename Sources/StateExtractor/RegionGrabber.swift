import CX11Shim
import RecorderCore
import X11Support

/// Reads small rectangles of the root window as RGB through the state thread's own connection.
///
/// One MIT-SHM segment, sized for the largest rectangle asked for, is reused for every grab (XShmGetImage of a
/// sub-rectangle); without MIT-SHM each grab falls back to XGetImage. Lives and dies on the state thread.
final class RegionGrabber {
    private let connection: XConnection
    private let image: SharedMemoryImage?
    private let shifts: (red: UInt32, green: UInt32, blue: UInt32)
    /// False when the server lacks MIT-SHM (or refused the segment) and grabs use XGetImage.
    var usesSharedMemory: Bool { image != nil }

    /// - Parameters:
    ///   - capacityWidth, capacityHeight: the segment holds any rectangle of at most this many pixels.
    ///   - sharedMemory: false forces the XGetImage path.
    init(connection: XConnection, capacityWidth: Int, capacityHeight: Int, sharedMemory: Bool = true) throws(RecorderError) {
        self.connection = connection
        let visual = connection.visual.pointee
        guard let red = Self.byteShift(visual.red_mask), let green = Self.byteShift(visual.green_mask),
              let blue = Self.byteShift(visual.blue_mask) else {
            throw RecorderError.display("state sampler: unsupported visual (masks \(visual.red_mask), \(visual.green_mask), \(visual.blue_mask)); need 8 bits per channel")
        }
        shifts = (red, green, blue)
        image = sharedMemory ? Self.sharedImage(connection: connection, width: capacityWidth, height: capacityHeight) : nil
    }

    /// A segment for `width` x `height` pixels attached to the server; nil without MIT-SHM or when any step fails.
    private static func sharedImage(connection: XConnection, width: Int, height: Int) -> SharedMemoryImage? {
        guard width > 0, height > 0, XShmQueryExtension(connection.display) != 0,
              let segment = try? SharedMemorySegment(byteCount: width * height * 4),
              let image = SharedMemoryImage(connection: connection, segment: segment, width: width, height: height),
              connection.attach([image]) == nil else { return nil }
        return image
    }

    /// Bytes the shared segment holds (0 without MIT-SHM).
    var segmentBytes: Int { image?.segment.byteCount ?? 0 }

    /// Reads `region` of the screen into `target` (resized to the region). False on an X error or a lost display.
    func grab(_ region: PixelRect, into target: inout RGBImage) -> Bool {
        if target.width != region.width || target.height != region.height {
            target = RGBImage(width: region.width, height: region.height)
        }
        if let image {
            guard image.grab(region, from: connection.root, on: connection) else { return false }
            convert(image.xImage, into: &target)
            return true
        }
        guard let source = XGetImage(connection.display, connection.root, Int32(region.x), Int32(region.y), UInt32(region.width),
                                     UInt32(region.height), CX11Shim_AllPlanes(), ZPixmap) else { return false }
        defer { _ = CX11Shim_XDestroyImage(source) }
        guard source.pointee.bits_per_pixel == 32 else { return false }
        convert(source, into: &target)
        return true
    }

    /// Detaches the segment (skipping the server round trip when the connection is gone).
    func close() {
        if let image { connection.release([image]) }
    }

    private func convert(_ source: UnsafeMutablePointer<XImage>, into image: inout RGBImage) {
        let width = image.width, height = image.height
        let stride = Int(source.pointee.bytes_per_line)
        let littleEndian = source.pointee.byte_order == LSBFirst
        let (redShift, greenShift, blueShift) = shifts
        guard let data = source.pointee.data else { return }
        let bytes = UnsafeRawPointer(data)
        image.pixels.withUnsafeMutableBufferPointer { target in
            var out = 0
            for y in 0..<height {
                let row = bytes + y * stride
                for x in 0..<width {
                    let raw = row.loadUnaligned(fromByteOffset: x * 4, as: UInt32.self)
                    let pixel = littleEndian ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)
                    target[out] = UInt8(truncatingIfNeeded: pixel >> redShift)
                    target[out + 1] = UInt8(truncatingIfNeeded: pixel >> greenShift)
                    target[out + 2] = UInt8(truncatingIfNeeded: pixel >> blueShift)
                    out += 3
                }
            }
        }
    }

    /// The shift of an 8-bit channel mask (0xff << shift), nil for any other mask.
    private static func byteShift(_ mask: UInt) -> UInt32? {
        for shift in stride(from: 0, through: 24, by: 8) where mask == UInt(0xff) << UInt(shift) {
            return UInt32(shift)
        }
        return nil
    }
}
