import CChunkCodec
import CFrameKernels
@testable import FrameCodec
import RecorderCore
import Testing

/// The dense-residual shortcut: a scrolling view is stored whole without compressing its residual,
/// a sparse change stays a residual, and every chunk still decodes to the exact image.
@Suite struct FrameEncoderDensityTests {
    static let width = 96
    static let height = 64

    /// A textured BGRX screen scrolled left by `shift` pixels.
    static func scrolledScreen(shift: Int, stride: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0xEE, count: stride * height)
        for y in 0..<height {
            for x in 0..<width {
                let u = UInt32(x + shift), v = UInt32(y)
                let value = (u &* 2_654_435_761) ^ (v &* 40_503) ^ (u &* v &* 97)
                for c in 0..<3 { pixels[y * stride + x * 4 + c] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(c))) }
            }
        }
        return pixels
    }

    static func rgb(_ bgrx: [UInt8], stride: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 { out[(y * width + x) * 3 + c] = bgrx[y * stride + x * 4 + 2 - c] }
            }
        }
        return out
    }

    @Test("sampled changed share compares every step-th BGRX pixel with the RGB reference")
    func sampledShare() {
        let width = 10, height = 10, bytesPerLine = 48
        var source = [UInt8](repeating: 0, count: bytesPerLine * height)
        var reference = [UInt8](repeating: 0, count: width * height * 3)
        for k in 0..<(width * height) {
            let y = k / width, x = k % width
            source[y * bytesPerLine + 4 * x + 2] = UInt8(k) // red
            source[y * bytesPerLine + 4 * x + 3] = 0xFF     // the X byte is padding: never compared
            reference[3 * k] = UInt8(k)
        }
        #expect(CFrameKernels_sampled_changed_share(source, bytesPerLine, width, height, reference, 1) == 0)
        for k in stride(from: 0, to: width * height, by: 4) { reference[3 * k + 2] ^= 1 } // blue of every 4th
        #expect(CFrameKernels_sampled_changed_share(source, bytesPerLine, width, height, reference, 2) == 0.5)
        #expect(CFrameKernels_sampled_changed_share(source, bytesPerLine, width, height, reference, 4) == 1)
        #expect(CFrameKernels_sampled_changed_share(source, bytesPerLine, width, height, reference, 1) == 0.25)
    }

    @Test("scrolling frames are stored whole, a small change as a residual, all lossless", arguments: [ReferencePolicy.lastKeyframe, .previousFrame, .dyadic])
    func scrollingIsStoredWhole(policy: ReferencePolicy) throws {
        let stride = Self.width * 4 + 32
        let encoder = try FrameEncoder(width: Self.width, height: Self.height, codec: .zstd, level: 1,
                                       keyframeInterval: 60, policy: policy)
        var screens = (0..<4).map { Self.scrolledScreen(shift: $0, stride: stride) }
        var changed = screens[3]
        for x in 10..<14 { changed[5 * stride + x * 4] ^= 0xFF } // four pixels of one row
        screens.append(changed)
        let codec = try ChunkCodec(codec: .zstd, level: 1)
        let frameBytes = Self.width * Self.height * 3
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: frameBytes + 64)
        defer { input.deallocate() }
        var chunk = [UInt8](repeating: 0, count: codec.bound(frameBytes))
        var references: [Int64] = []
        for screen in screens {
            let plan = screen.withUnsafeBytes { encoder.prepare(pixels: $0.baseAddress!, bytesPerLine: stride, into: input) }
            references.append(plan.reference)
            #expect(!plan.isIdentical)
            let size = chunk.withUnsafeMutableBytes { codec.encode(input, count: frameBytes, into: $0.baseAddress!, capacity: $0.count) }
            #expect(size > 0)
            var decoded = [UInt8](repeating: 0, count: frameBytes)
            #expect(CChunkCodec_decode(Int32(CCHUNKCODEC_ZSTD), chunk, size, &decoded, decoded.count) == 0)
            if plan.reference < 0 { #expect(decoded == Self.rgb(screen, stride: stride)) }
        }
        // Frames 1-3 scroll (every pixel moves): whole. Frame 4 changes four pixels of frame 3: a residual.
        #expect(references == [-1, -1, -1, -1, 3])
    }
}
