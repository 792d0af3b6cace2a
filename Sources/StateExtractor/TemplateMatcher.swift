import RecorderCore

/// Finds where a small template best fits inside a rectangle, by the sum of absolute differences (SAD) over
/// R, G and B at every position.
///
/// A candidate is abandoned as soon as its running sum passes the best so far, which makes the typical cost far
/// below the worst case (positions x template pixels, capped by `ProbeConfiguration.templateComparisonBudget`).
/// The score is 1 - SAD / (255 * 3 * template pixels): 1 for an exact match, about 0.5 or less for unrelated content.
enum TemplateMatcher {
    struct Match: Equatable {
        /// 0...1, 1 = pixel-exact.
        var score: Double
        /// Top-left of the best position, relative to the rectangle.
        var x: Int
        var y: Int
    }

    static func bestMatch(of template: RGBImage, in image: RGBImage, rect: PixelRect) -> Match {
        let rowBytes = image.width * 3
        let templateRowBytes = template.width * 3
        var best = Int.max
        var bestX = 0, bestY = 0
        image.pixels.withUnsafeBufferPointer { pixels in
            template.pixels.withUnsafeBufferPointer { wanted in
                for top in 0...(rect.height - template.height) {
                    for left in 0...(rect.width - template.width) {
                        var sum = 0
                        rows: for row in 0..<template.height {
                            let base = (rect.y + top + row) * rowBytes + (rect.x + left) * 3
                            let templateBase = row * templateRowBytes
                            for byte in 0..<templateRowBytes {
                                sum += abs(Int(pixels[base + byte]) - Int(wanted[templateBase + byte]))
                            }
                            if sum >= best { break rows }
                        }
                        if sum < best {
                            best = sum
                            bestX = left
                            bestY = top
                            if sum == 0 { return }
                        }
                    }
                }
            }
        }
        let worst = Double(255 * 3 * template.width * template.height)
        return Match(score: 1 - Double(best) / worst, x: bestX, y: bestY)
    }
}
