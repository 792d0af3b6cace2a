import CX11Shim
import RecorderCore

/// Reads small rectangles of the root window as RGB through the state thread's own connection.
///
/// One MIT-SHM segment, sized for the largest rectangle asked for, is reused for every grab (XShmGetImage of a
/// sub-rectangle); without MIT-SHM each grab falls back to XGetImage. Lives and dies on the state thread.
final class RegionGrabber {
    private let display: OpaquePointer
    private let root: Window
    private let shm: UnsafeMutablePointer<CX11Shim_state_shm>
    private let shifts: (red: UInt32, green: UInt32, blue: UInt32)
    /// False when the server lacks MIT-SHM (or refused the segment) and grabs use XGetImage.
    let usesSharedMemory: Bool

    /// - Parameters:
    ///   - capacityWidth, capacityHeight: the segment holds any rectangle of at most this many pixels.
    ///   - sharedMemory: false forces the XGetImage path.
    init(display: OpaquePointer, screen: Int32, capacityWidth: Int, capacityHeight: Int, sharedMemory: Bool = true) throws(RecorderError) {
        self.display = display
        root = CX11Shim_RootWindow(display, screen)
        let visual = CX11Shim_DefaultVisual(display, screen)!.pointee
        guard let red = Self.byteShift(visual.red_mask), let green = Self.byteShift(visual.green_mask),
              let blue = Self.byteShift(visual.blue_mask) else {
            throw RecorderError.display("state sampler: unsupported visual (masks \(visual.red_mask), \(visual.green_mask), \(visual.blue_mask)); need 8 bits per channel")
        }
        shifts = (red, green, blue)
        shm = .allocate(capacity: 1)
        shm.initialize(to: CX11Shim_state_shm())
        if sharedMemory, capacityWidth > 0, capacityHeight > 0 {
            usesSharedMemory = CX11Shim_state_shm_create(display, screen, Int32(capacityWidth), Int32(capacityHeight), shm) == 0
        } else {
            usesSharedMemory = false
        }
    }

    /// Bytes the shared segment holds (0 without MIT-SHM).
    var segmentBytes: Int {
        guard let image = shm.pointee.image else { return 0 }
        return Int(shm.pointee.capacity_width) * Int(shm.pointee.capacity_height) * Int(image.pointee.bits_per_pixel / 8)
    }

    /// Reads `region` of the screen into `image` (resized to the region). False on an X error or a lost display.
    func grab(_ region: ProbeRegion, into image: inout RGBImage) -> Bool {
        if image.width != region.width || image.height != region.height {
            image = RGBImage(width: region.width, height: region.height)
        }
        if usesSharedMemory {
            guard CX11Shim_state_shm_grab(display, root, shm, Int32(region.x), Int32(region.y), Int32(region.width), Int32(region.height)) != 0,
                  let source = shm.pointee.image else { return false }
            convert(source, into: &image)
            return true
        }
        guard let source = XGetImage(display, root, Int32(region.x), Int32(region.y), UInt32(region.width), UInt32(region.height),
                                     CX11Shim_AllPlanes(), ZPixmap) else { return false }
        defer { _ = CX11Shim_XDestroyImage(source) }
        guard source.pointee.bits_per_pixel == 32 else { return false }
        convert(source, into: &image)
        return true
    }

    /// Releases the segment; `displayAlive` false skips the server round trip (the connection is gone).
    func close(displayAlive: Bool) {
        CX11Shim_state_shm_destroy(display, shm, displayAlive)
        shm.deinitialize(count: 1)
        shm.deallocate()
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
