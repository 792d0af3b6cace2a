import Foundation

/// A rectangle in pixels: of the screen (a capture region, a probe region, a window) or of a grabbed image.
public struct PixelRect: Sendable, Equatable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// Parses `X,Y,W,H`, the notation of `--region` and of a `start` request's `region` string.
    public init(parsing text: String) throws(RecorderError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2], let h = parts[3] else {
            throw .invalidConfiguration("--region must be X,Y,W,H in pixels, got '\(text)'")
        }
        guard x >= 0, y >= 0, w > 0, h > 0 else {
            throw .invalidConfiguration("--region needs X,Y >= 0 and W,H > 0, got '\(text)'")
        }
        self.init(x: x, y: y, width: w, height: h)
    }

    /// `X,Y,W,H`, as `--region` takes it.
    public var description: String { "\(x),\(y),\(width),\(height)" }

    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public var area: Int { width * height }

    /// The part both cover (empty, with zero size, when they do not meet).
    public func intersection(_ other: PixelRect) -> PixelRect {
        let left = max(x, other.x)
        let top = max(y, other.y)
        let right = min(x + width, other.x + other.width)
        let bottom = min(y + height, other.y + other.height)
        return PixelRect(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }

    /// The smallest rectangle holding both.
    public func union(_ other: PixelRect) -> PixelRect {
        let left = min(x, other.x)
        let top = min(y, other.y)
        let right = max(x + width, other.x + other.width)
        let bottom = max(y + height, other.y + other.height)
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }
}
