import RecorderCore

/// A difference hash (dHash) of a rectangle: 7 rows of 8 cells of mean luma, one bit per horizontal neighbour
/// pair (1 when the right cell is brighter), 49 bits in all.
///
/// 49 bits rather than the usual 64 so the hash survives `StateSample`'s Double values exactly (below 2^53).
/// Bit `row * 7 + column` holds the comparison of cells `column` and `column + 1` of `row`.
/// Like every dHash it ignores uniform brightness changes: a flat region repainted in another flat colour keeps
/// its hash (use a `mean` probe for that).
enum PerceptualHash {
    static let columns = 8
    static let rows = 7
    static let bits = rows * (columns - 1)

    static func of(_ image: RGBImage, in rect: PixelRect) -> Int64 {
        var sums = [Int](repeating: 0, count: rows * columns)
        var counts = [Int](repeating: 0, count: rows * columns)
        let rowBytes = image.width * 3
        image.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<rect.height {
                let cellRow = y * rows / rect.height
                var offset = (rect.y + y) * rowBytes + rect.x * 3
                for x in 0..<rect.width {
                    let cell = cellRow * columns + x * columns / rect.width
                    // Integer Rec. 601 luma, scaled by 1000.
                    sums[cell] += 299 * Int(pixels[offset]) + 587 * Int(pixels[offset + 1]) + 114 * Int(pixels[offset + 2])
                    counts[cell] += 1
                    offset += 3
                }
            }
        }
        var hash: Int64 = 0
        for row in 0..<rows {
            for column in 0..<(columns - 1) {
                let left = row * columns + column
                // Compare means without division: sums[l]/counts[l] < sums[r]/counts[r].
                if sums[left] * counts[left + 1] < sums[left + 1] * counts[left] {
                    hash |= 1 << Int64(row * (columns - 1) + column)
                }
            }
        }
        return hash
    }

    /// Number of differing bits.
    static func distance(_ a: Int64, _ b: Int64) -> Int { (a ^ b).nonzeroBitCount }
}
