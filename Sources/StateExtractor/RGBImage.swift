import CPNGShim
import RecorderCore

/// A small packed RGB image (3 bytes per pixel, rows without padding): a grabbed region or a template.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height * 3` bytes, row-major, R then G then B.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage needs width*height*3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image of `width` x `height` black pixels.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The colour at (x, y).
    public subscript(x: Int, y: Int) -> RGBColor {
        let offset = (y * width + x) * 3
        return RGBColor(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
    }

    /// Decodes a PNG file with libpng to 8-bit RGB (alpha is composited on black).
    /// - Throws: `RecorderError.invalidConfiguration` with libpng's reason.
    /// - Parameters:
    ///   - maxWidth: wider images are refused from their header, before any pixel memory is taken.
    ///   - maxHeight: likewise for the height.
    public static func loadPNG(
        path: String, maxWidth: Int = SessionOptions.Limits.size.upperBound, maxHeight: Int = SessionOptions.Limits.size.upperBound
    ) throws(RecorderError) -> RGBImage {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0
        var height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = CPNGShim_read_rgb(path, Int32(clamping: maxWidth), Int32(clamping: maxHeight), &pixels, &width, &height, &message, Int32(message.count))
        guard status == 0, let pixels else {
            let reason = String(cBuffer: message)
            throw RecorderError.invalidConfiguration(reason.isEmpty ? "cannot decode PNG" : reason)
        }
        defer { CPNGShim_free(pixels) }
        let count = Int(width) * Int(height) * 3
        return RGBImage(width: Int(width), height: Int(height), pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }
}
