/// A rectangle inside a grabbed `RGBImage` (image coordinates), the part one probe reads.
struct PixelRect: Equatable {
    var x: Int
    var y: Int
    var width: Int
    var height: Int
}
