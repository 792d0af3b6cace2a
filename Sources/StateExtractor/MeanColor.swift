import RecorderCore

/// The mean colour of a rectangle, each channel 0...255.
enum MeanColor {
    static func of(_ image: RGBImage, in rect: PixelRect) -> (red: Double, green: Double, blue: Double) {
        let rowBytes = image.width * 3
        return image.pixels.withUnsafeBufferPointer { pixels in
            var red = 0, green = 0, blue = 0
            for y in rect.y..<(rect.y + rect.height) {
                var offset = y * rowBytes + rect.x * 3
                for _ in 0..<rect.width {
                    red += Int(pixels[offset])
                    green += Int(pixels[offset + 1])
                    blue += Int(pixels[offset + 2])
                    offset += 3
                }
            }
            let count = Double(rect.width * rect.height)
            return (Double(red) / count, Double(green) / count, Double(blue) / count)
        }
    }
}
