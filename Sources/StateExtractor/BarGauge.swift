import RecorderCore

/// Measures how full a bar is.
///
/// The bar is cut into lines across its growth axis (columns for "right"/"left", rows for "up"/"down").
/// A line counts as filled when a strict majority of its pixels lie within `tolerance` of the colour on every
/// channel, so text, borders or a shine over a few pixels do not break it. Walking from the anchored edge, the
/// extent ends at the last filled line reached without crossing more than `maxGap` unfilled lines in a row,
/// so a tick mark or a one-pixel seam inside the fill is bridged but a stray matching pixel far away is not.
/// The fraction is that extent over the region's length along the axis: 0 (empty) to 1 (full).
enum BarGauge {
    static func fraction(of image: RGBImage, in rect: PixelRect, color: RGBColor, tolerance: Int, direction: BarDirection, maxGap: Int) -> Double {
        let horizontal = direction == .right || direction == .left
        let length = horizontal ? rect.width : rect.height
        let across = horizontal ? rect.height : rect.width
        let red = Int(color.red), green = Int(color.green), blue = Int(color.blue)
        let rowBytes = image.width * 3
        return image.pixels.withUnsafeBufferPointer { pixels -> Double in
            var lastFilled = -1
            var gap = 0
            for step in 0..<length {
                let line: Int
                switch direction {
                case .right, .down: line = step
                case .left, .up: line = length - 1 - step
                }
                var matches = 0
                for position in 0..<across {
                    let x = rect.x + (horizontal ? line : position)
                    let y = rect.y + (horizontal ? position : line)
                    let offset = y * rowBytes + x * 3
                    if abs(Int(pixels[offset]) - red) <= tolerance, abs(Int(pixels[offset + 1]) - green) <= tolerance,
                       abs(Int(pixels[offset + 2]) - blue) <= tolerance {
                        matches += 1
                    }
                }
                if matches * 2 > across {
                    lastFilled = step
                    gap = 0
                } else {
                    gap += 1
                    if gap > maxGap { break }
                }
            }
            return Double(lastFilled + 1) / Double(length)
        }
    }
}
