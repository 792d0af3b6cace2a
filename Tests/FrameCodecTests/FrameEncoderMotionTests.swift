import CChunkCodec
import CFrameKernels
@testable import FrameCodec
import RecorderCore
import Testing

/// The motion reference (format 2): a panning or scrolling view becomes residuals against the reference
/// displaced by the motion, found by the encoder, and every frame decodes to the exact image.
@Suite struct FrameEncoderMotionTests {
    static let width = 320
    static let height = 240
    static let stride = width * 4 + 64

    /// A BGRX screen showing an endless hashed texture from offset (ox, oy); `seed` changes the scene.
    static func screen(ox: Int, oy: Int, seed: UInt32 = 0) -> [UInt8] {
        var pixels = [UInt8](repeating: 0xEE, count: stride * height)
        for y in 0..<height {
            for x in 0..<width {
                let u = UInt32(truncatingIfNeeded: x + ox + 1000), v = UInt32(truncatingIfNeeded: y + oy + 1000)
                let value = (u &* 2_654_435_761) ^ (v &* 40_503) ^ (u &* v &* 97) ^ (seed &* 0x9E37_79B9)
                for c in 0..<3 { pixels[y * stride + x * 4 + c] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(c))) }
            }
        }
        return pixels
    }

    static func rgb(_ bgrx: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 { out[(y * width + x) * 3 + c] = bgrx[y * stride + x * 4 + 2 - c] }
            }
        }
        return out
    }

    /// The decoding rule of format 2: image[y][x] = reference[y - dy][x - dx], zero outside.
    static func displaced(_ image: [UInt8], dx: Int, dy: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.count)
        for y in 0..<height where (0..<height).contains(y - dy) {
            for x in 0..<width where (0..<width).contains(x - dx) {
                for c in 0..<3 { out[(y * width + x) * 3 + c] = image[((y - dy) * width + x - dx) * 3 + c] }
            }
        }
        return out
    }

    struct Stored {
        var reference: Int64
        var dx: Int
        var dy: Int
        /// Non-zero bytes of the stored residual (or image).
        var nonZeroBytes: Int
    }

    /// Encodes `screens` one after another, decodes every chunk by the format 2 rule and checks each
    /// image against its screen; returns what was stored.
    static func encodeAndDecode(_ screens: [[UInt8]], policy: ReferencePolicy, motion: Bool = true, keyframeInterval: Int = 60) throws -> [Stored] {
        let encoder = try FrameEncoder(width: width, height: height, codec: .zstd, level: 1, keyframeInterval: keyframeInterval,
                                       policy: policy, motionReference: motion)
        let codec = try ChunkCodec(codec: .zstd, level: 1)
        let frameBytes = width * height * 3
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: frameBytes + 64)
        defer { input.deallocate() }
        var chunk = [UInt8](repeating: 0, count: codec.bound(frameBytes))
        var images: [[UInt8]] = []
        var stored: [Stored] = []
        for (index, screen) in screens.enumerated() {
            let plan = screen.withUnsafeBytes { encoder.prepare(pixels: $0.baseAddress!, bytesPerLine: stride, into: input) }
            var residual = [UInt8](repeating: 0, count: frameBytes)
            if !plan.isIdentical {
                let size = chunk.withUnsafeMutableBytes { codec.encode(input, count: frameBytes, into: $0.baseAddress!, capacity: $0.count) }
                #expect(CChunkCodec_decode(Int32(CCHUNKCODEC_ZSTD), chunk, size, &residual, frameBytes) == 0)
            }
            let dx = Int(plan.shift.dx), dy = Int(plan.shift.dy)
            var image = residual
            if plan.reference >= 0 {
                let base = displaced(images[Int(plan.reference)], dx: dx, dy: dy)
                for k in 0..<frameBytes { image[k] ^= base[k] }
            }
            #expect(image == rgb(screen), "frame \(index) (reference \(plan.reference), shift \(dx),\(dy)) does not decode to its screen")
            images.append(image)
            stored.append(Stored(reference: plan.reference, dx: dx, dy: dy, nonZeroBytes: residual.filter { $0 != 0 }.count))
        }
        return stored
    }

    @Test("a pan becomes residuals against the last keyframe displaced by the accumulated motion")
    func panAgainstLastKeyframe() throws {
        let path = [(0, 0), (2, 1), (5, 2), (8, 2), (10, 3)]
        let stored = try Self.encodeAndDecode(path.map { Self.screen(ox: $0.0, oy: $0.1) }, policy: .lastKeyframe)
        #expect(stored.map(\.reference) == [-1, 0, 0, 0, 0])
        // Content that was at (x, y) in the keyframe is now at (x - ox, y - oy).
        #expect(stored.dropFirst().map { [$0.dx, $0.dy] } == path.dropFirst().map { [-$0.0, -$0.1] })
        for (frame, (ox, oy)) in zip(stored.dropFirst(), path.dropFirst()) {
            // Only the strip the keyframe never showed is non-zero: at most its pixels' bytes.
            let uncovered = ox * Self.height + oy * Self.width
            #expect(frame.nonZeroBytes <= uncovered * 3, "\(frame.nonZeroBytes) non-zero bytes for a (\(ox), \(oy)) pan")
        }
    }

    @Test("with the previous-frame policy each frame follows the one before")
    func panAgainstPreviousFrame() throws {
        let path = [(0, 0), (-3, 0), (-6, 2), (-6, 2), (-9, 4)]
        let stored = try Self.encodeAndDecode(path.map { Self.screen(ox: $0.0, oy: $0.1) }, policy: .previousFrame)
        #expect(stored.map(\.reference) == [-1, 0, 1, 2, 3])
        #expect(stored.map { [$0.dx, $0.dy] } == [[0, 0], [3, 0], [3, -2], [0, 0], [3, -2]])
        #expect(stored[3].nonZeroBytes == 0, "an unmoved frame is identical to the previous one")
    }

    @Test("dyadic: frame n after the keyframe refers to n with its lowest bit cleared, displaced by the motion between them")
    func dyadicPan() throws {
        // A diagonal pan of (3, 1) px per frame with a pause at frames 9-11: the displacement to a
        // reference 8 frames back (24, 8) lies beyond the tracking and wide radii around the last
        // frame's displacement or zero, so only an expectation built from the pan's positions finds it.
        var path: [(Int, Int)] = []
        var position = (0, 0)
        for n in 0..<36 {
            path.append(position)
            if !(9...11).contains(n) { position = (position.0 + 3, position.1 + 1) }
        }
        let stored = try Self.encodeAndDecode(path.map { Self.screen(ox: $0.0, oy: $0.1) }, policy: .dyadic, keyframeInterval: 16)
        let expected = path.indices.map { i -> Int64 in
            let offset = i % 16
            return offset == 0 ? -1 : Int64(i - offset + (offset & (offset - 1)))
        }
        #expect(stored.map(\.reference) == expected)
        for (i, frame) in stored.enumerated() where frame.reference >= 0 {
            let base = path[Int(frame.reference)]
            #expect([frame.dx, frame.dy] == [base.0 - path[i].0, base.1 - path[i].1], "frame \(i) against \(frame.reference)")
        }
        // Decoding any frame reads at most 1 + log2(16) chunks: the keyframe and one per bit of its offset.
        func chain(_ i: Int) -> Int { stored[i].reference < 0 ? 1 : 1 + chain(Int(stored[i].reference)) }
        #expect(stored.indices.map(chain).max() == 5)
    }

    @Test("dyadic keeps exactly the images later frames refer to", arguments: [2, 3, 8, 16, 17, 60, 64, 120, 128])
    func dyadicRungs(keyframeInterval: Int) {
        let mostBits = Swift.stride(from: 2, to: keyframeInterval, by: 2).map { $0.nonzeroBitCount }.max() ?? 0
        #expect(FrameEncoder.dyadicRungs(keyframeInterval: keyframeInterval) == mostBits)
    }

    @Test("a page scrolled by a wheel step is found beyond the tracking radius; a scene cut is stored whole")
    func scrollAndCut() throws {
        let screens = [Self.screen(ox: 0, oy: 0), Self.screen(ox: 0, oy: 48), Self.screen(ox: 0, oy: -40),
                       Self.screen(ox: 0, oy: 0, seed: 7)]
        let stored = try Self.encodeAndDecode(screens, policy: .lastKeyframe)
        #expect(stored.map(\.reference) == [-1, 0, 0, -1])
        #expect(stored.map { [$0.dx, $0.dy] } == [[0, 0], [0, -48], [0, 40], [0, 0]])
    }

    @Test("a fast diagonal pan (beyond the tracking radius) is found by the wide search")
    func fastDiagonalPan() throws {
        let path = [(0, 0), (11, 7), (22, 14), (33, 21)]
        let stored = try Self.encodeAndDecode(path.map { Self.screen(ox: $0.0, oy: $0.1) }, policy: .previousFrame)
        #expect(stored.map(\.reference) == [-1, 0, 1, 2])
        #expect(stored.dropFirst().map { [$0.dx, $0.dy] } == [[-11, -7], [-11, -7], [-11, -7]])
    }

    @Test("at 720p (coarse pre-checks on) the search finds a displacement 13 px away and rejects noise")
    func searchAtSevenTwenty() {
        let width = 1280, height = 720, stride = width * 4
        var reference = [UInt8](repeating: 0, count: width * height * 3)
        var screen = [UInt8](repeating: 0, count: stride * height)
        func texel(_ u: Int, _ v: Int) -> UInt32 {
            let a = UInt32(truncatingIfNeeded: u + 5000), b = UInt32(truncatingIfNeeded: v + 5000)
            return (a &* 2_654_435_761) ^ (b &* 40_503) ^ (a &* b &* 97)
        }
        // The screen is the reference's content moved by (-13, +3): screen(x, y) = reference(x + 13, y - 3).
        for y in 0..<height {
            for x in 0..<width {
                let r = texel(x, y), s = texel(x + 13, y - 3)
                for c in 0..<3 {
                    reference[(y * width + x) * 3 + c] = UInt8(truncatingIfNeeded: r >> (8 * UInt32(c)))
                    screen[y * stride + x * 4 + 2 - c] = UInt8(truncatingIfNeeded: s >> (8 * UInt32(c)))
                }
            }
        }
        var dx: Int32 = 99, dy: Int32 = 99
        let share = CFrameKernels_best_shift(screen, stride, width, height, reference, 1021, 0, 0, 16, 16, 0.5, &dx, &dy)
        #expect([dx, dy] == [-13, 3])
        #expect(share < 0.05, "only the uncovered strip differs: \(share)")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 // xorshift64: noise without a syscall per byte
        for k in 0..<screen.count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            screen[k] = UInt8(truncatingIfNeeded: state)
        }
        let none = CFrameKernels_best_shift(screen, stride, width, height, reference, 1021, 0, 0, 16, 16, 0.5, &dx, &dy)
        #expect(none > 0.5, "noise matches no displacement: \(none)")
    }

    @Test("without the option a pan is stored whole, as format 1 requires")
    func withoutMotionReference() throws {
        let stored = try Self.encodeAndDecode([Self.screen(ox: 0, oy: 0), Self.screen(ox: 2, oy: 1)], policy: .lastKeyframe, motion: false)
        #expect(stored.map(\.reference) == [-1, -1])
        #expect(stored.allSatisfy { $0.dx == 0 && $0.dy == 0 })
    }
}
