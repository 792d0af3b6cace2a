import RecorderCore
@testable import StateExtractor
import Testing

/// The measurements on hand-made images, every direction and edge case of the bar definition.
@Suite
struct ProbeMeasurementTests {
    private let red = RGBColor(red: 200, green: 20, blue: 20)
    private let grey = RGBColor(red: 40, green: 40, blue: 40)

    private func image(_ width: Int, _ height: Int, _ color: (Int, Int) -> RGBColor) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height { for x in 0..<width { let c = color(x, y); pixels += [c.red, c.green, c.blue] } }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func fraction(_ image: RGBImage, _ direction: BarDirection, maxGap: Int = 2, tolerance: Int = 30) -> Double {
        BarGauge.fraction(of: image, in: PixelRect(x: 0, y: 0, width: image.width, height: image.height), color: red,
                          tolerance: tolerance, direction: direction, maxGap: maxGap)
    }

    @Test func barInEveryDirection() {
        #expect(fraction(image(100, 5) { x, _ in x < 37 ? red : grey }, .right) == 0.37)
        #expect(fraction(image(100, 5) { x, _ in x >= 100 - 64 ? red : grey }, .left) == 0.64)
        #expect(fraction(image(4, 50) { _, y in y >= 50 - 10 ? red : grey }, .up) == 0.2)
        #expect(fraction(image(4, 50) { _, y in y < 45 ? red : grey }, .down) == 0.9)
        #expect(fraction(image(100, 5) { _, _ in grey }, .right) == 0)
        #expect(fraction(image(100, 5) { _, _ in red }, .right) == 1)
    }

    @Test func barToleratesShadesAndMinorities() {
        let shaded = RGBColor(red: 220, green: 5, blue: 40)  // every channel within 30 of red
        // Rows 0-1 of 5 are text over the bar: the columns still have a majority of bar colour.
        let bar = image(100, 5) { x, y in x < 50 ? (y < 2 ? grey : shaded) : grey }
        #expect(fraction(bar, .right) == 0.5)
        #expect(fraction(bar, .right, tolerance: 10) == 0)
    }

    @Test func barBridgesShortGapsOnly() {
        let seam = image(100, 3) { x, _ in x < 60 && x != 20 && x != 21 ? red : grey }
        #expect(fraction(seam, .right, maxGap: 2) == 0.6)
        #expect(fraction(seam, .right, maxGap: 1) == 0.2)
        // A stray patch far beyond the fill does not count.
        let stray = image(100, 3) { x, _ in x < 30 || x == 90 ? red : grey }
        #expect(fraction(stray, .right) == 0.3)
    }

    @Test func meanColour() {
        let halves = image(10, 4) { x, _ in x < 5 ? RGBColor(red: 255, green: 0, blue: 0) : RGBColor(red: 0, green: 0, blue: 255) }
        let mean = MeanColor.of(halves, in: PixelRect(x: 0, y: 0, width: 10, height: 4))
        #expect(mean.red == 127.5 && mean.green == 0 && mean.blue == 127.5)
        let part = MeanColor.of(halves, in: PixelRect(x: 6, y: 1, width: 2, height: 2))
        #expect(part.red == 0 && part.blue == 255)
    }

    @Test func differenceHash() {
        let rising = image(64, 56) { x, _ in let v = UInt8(x * 4); return RGBColor(red: v, green: v, blue: v) }
        let falling = image(64, 56) { x, _ in let v = UInt8(255 - x * 4); return RGBColor(red: v, green: v, blue: v) }
        let rect = PixelRect(x: 0, y: 0, width: 64, height: 56)
        #expect(PerceptualHash.of(rising, in: rect) == (1 << 49) - 1)
        #expect(PerceptualHash.of(falling, in: rect) == 0)
        #expect(PerceptualHash.distance(PerceptualHash.of(rising, in: rect), 0) == 49)
        // Brightness shifts keep the hash.
        let brighter = image(64, 56) { x, _ in let v = UInt8(x * 3 + 50); return RGBColor(red: v, green: v, blue: v) }
        #expect(PerceptualHash.of(brighter, in: rect) == (1 << 49) - 1)
    }

    @Test func templateFindsExactPosition() {
        let pattern = image(6, 5) { x, y in RGBColor(red: UInt8(x * 40), green: UInt8(y * 50), blue: UInt8((x * y * 13) % 256)) }
        let scene = image(40, 30) { x, y in
            if (13..<19).contains(x), (7..<12).contains(y) { return pattern[x - 13, y - 7] }
            return RGBColor(red: UInt8((x * 7 + y * 3) % 256), green: 90, blue: 30)
        }
        let match = TemplateMatcher.bestMatch(of: pattern, in: scene, rect: PixelRect(x: 0, y: 0, width: 40, height: 30))
        #expect(match == TemplateMatcher.Match(score: 1, x: 13, y: 7))
        let offset = TemplateMatcher.bestMatch(of: pattern, in: scene, rect: PixelRect(x: 10, y: 5, width: 20, height: 20))
        #expect(offset == TemplateMatcher.Match(score: 1, x: 3, y: 2))
        let absent = TemplateMatcher.bestMatch(of: pattern, in: scene, rect: PixelRect(x: 20, y: 14, width: 20, height: 16))
        #expect(absent.score < 0.9)
    }

    @Test func grabPlanUsesUnionOnlyWhenCheaper() {
        let near = [PixelRect(x: 0, y: 0, width: 10, height: 10), PixelRect(x: 5, y: 5, width: 10, height: 10)]
        #expect(StateSampler.plan(for: near) == .perProbe)  // union 15x15 = 225 > 200
        let overlapping = [PixelRect(x: 0, y: 0, width: 10, height: 10), PixelRect(x: 0, y: 0, width: 10, height: 10)]
        #expect(StateSampler.plan(for: overlapping) == .union(PixelRect(x: 0, y: 0, width: 10, height: 10)))
        let far = [PixelRect(x: 0, y: 0, width: 10, height: 10), PixelRect(x: 600, y: 400, width: 10, height: 10)]
        #expect(StateSampler.plan(for: far) == .perProbe)
        #expect(StateSampler.plan(for: []) == .nothing)
    }
}
