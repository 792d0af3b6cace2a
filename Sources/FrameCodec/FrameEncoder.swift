import CFrameKernels
import RecorderCore

/// Which earlier image a residual frame is XORed against.
public enum ReferencePolicy: String, Sendable, Codable {
    /// image(i) = image(i-1) XOR frames[i]: smallest residuals, decoding frame i replays the chain
    /// back to the last keyframe (at most `keyframeInterval` - 1 XORs).
    case previousFrame = "previous-frame"
    /// image(i) = image(k) XOR frames[i] with k the last keyframe: any frame decodes from two chunks.
    case lastKeyframe = "last-keyframe"
    /// The frame `n` frames after the keyframe refers to the one `n` with its lowest set bit cleared
    /// frames after it (1 → 0, 2 → 0, 3 → 2, 6 → 4, 7 → 6, 8 → 0): half the frames refer to the frame
    /// before, a quarter two back, and any frame decodes from at most 1 + log2(`keyframeInterval`)
    /// chunks (the keyframe and one per set bit of `n`).
    case dyadic = "dyadic"
}

/// Decides how each BGRX capture slot is stored in `/video/frames` (whole RGB image, XOR residual, or
/// identical to its reference) and writes the bytes to compress; the `CompressionPool` compresses them.
///
/// Runs on the writer thread only, frame after frame: the reference image is its private state.
package final class FrameEncoder {
    /// One frame ready for `H5Dwrite_chunk`.
    package struct Encoded {
        package var bytes: UnsafeRawPointer
        package var size: Int
        /// -1 for a whole image, else the index of the frame it is XORed with.
        package var reference: Int64
        package var isIdentical: Bool
        /// How far the reference image is displaced before the XOR (`/video/reference_shift`).
        package var shift = Shift.none

        package init(bytes: UnsafeRawPointer, size: Int, reference: Int64, isIdentical: Bool, shift: Shift = .none) {
            self.bytes = bytes
            self.size = size
            self.reference = reference
            self.isIdentical = isIdentical
            self.shift = shift
        }
    }

    /// A displacement of the reference image: its pixel (x - dx, y - dy) lines up with pixel (x, y).
    package struct Shift: Equatable {
        package var dx: Int32
        package var dy: Int32
        package static let none = Shift(dx: 0, dy: 0)

        package init(dx: Int32, dy: Int32) {
            self.dx = dx
            self.dy = dy
        }
    }

    /// What `prepare` decided for one frame.
    package struct Plan {
        /// -1 for a whole image, else the index of the frame it is XORed with.
        package var reference: Int64
        /// The residual is all zeros: store `zeroChunk`, nothing to compress.
        package var isIdentical: Bool
        package var shift = Shift.none

        package init(reference: Int64, isIdentical: Bool, shift: Shift = .none) {
            self.reference = reference
            self.isIdentical = isIdentical
            self.shift = shift
        }
    }

    package let width: Int
    package let height: Int
    package let codec: SessionOptions.Codec
    package let keyframeInterval: Int
    package let policy: ReferencePolicy
    /// Residuals may be taken against the reference displaced (`/video/reference_shift`, format 2).
    package let motionReference: Bool
    /// A frame with more changed pixels than this share is stored whole (scrolling, a scene cut): its
    /// residual would compress no better than the image. On OpenTTD at 1080p accepted residuals change
    /// at most ~26% of the pixels, a scrolling view ~65-80%, a new random image ~100%.
    package static let denseChangeShare = 0.5
    /// Every this many pixels is looked at for the estimate (prime: all columns; ~2,000 samples at
    /// 1080p, a few microseconds), before any full pass over the frame.
    package static let densitySampleStep = 1021
    /// With the motion reference, a frame whose unshifted share is at most this is taken as not moving
    /// (no search): the search could gain at most this share.
    package static let stillShare = 0.01
    /// Frames the wide and scroll searches rest after finding nothing (a video or a scene cut changes
    /// every frame: ~1.5 ms of search at 1080p each would buy nothing); tracking still runs.
    package static let wideSearchRest = 10

    private let frameBytes: Int
    /// The reference image (previous frame, or last keyframe) as packed RGB.
    private var reference: UnsafeMutablePointer<UInt8>
    /// Receives the new image while a displaced previous frame is read (motion, previous-frame policy);
    /// then swapped with `reference`.
    private var spare: UnsafeMutablePointer<UInt8>?
    /// Dyadic policy: `ladder[d]` is the image of the latest frame whose offset from the keyframe has
    /// `d` bits set (`ladder[0]` is `reference`, the keyframe): exactly the images later frames refer to.
    private var ladder: [UnsafeMutablePointer<UInt8>] = []
    /// Dyadic policy: where the content of each `ladder` image lies, relative to the keyframe's
    /// (displacements add up along a pan), so the search can start where the motion should be.
    private var ladderPosition: [Shift] = []
    /// Dyadic policy: where the last frame's content lies relative to the keyframe, and how far it moved
    /// from the frame before (a pan keeps its speed, also across keyframes).
    private var lastPosition = Shift.none
    private var velocity = Shift.none
    /// The displacement of the last frame against the current reference: where the search starts.
    private var lastShift = Shift.none
    /// Frames until the wide and scroll searches may run again.
    private var wideSearchRestLeft = 0
    /// The all-zero residual, compressed once.
    private let zeroChunk: UnsafeMutableRawPointer
    private let zeroChunkSize: Int

    /// Frames prepared so far (the next frame's index).
    private(set) var index: Int64 = 0
    private var lastKeyframeIndex: Int64 = -1
    private var hasReference = false

    package init(width: Int, height: Int, codec: SessionOptions.Codec, level: Int, keyframeInterval: Int, policy: ReferencePolicy,
         motionReference: Bool = false) throws(RecorderError) {
        self.width = width
        self.height = height
        self.codec = codec
        self.keyframeInterval = max(1, keyframeInterval)
        self.policy = policy
        self.motionReference = motionReference
        frameBytes = width * height * 3
        let slack = 64 // the SIMD kernels store 16 bytes at a time
        reference = .allocate(capacity: frameBytes + slack)
        reference.initialize(repeating: 0, count: frameBytes + slack)
        if motionReference && policy == .previousFrame {
            spare = .allocate(capacity: frameBytes + slack)
            spare?.initialize(repeating: 0, count: frameBytes + slack)
        }
        if policy == .dyadic && self.keyframeInterval > 1 {
            // Only even offsets 2m (m < K/2) are referred to, and 2m has as many bits set as m.
            let rungs = FrameEncoder.dyadicRungs(keyframeInterval: self.keyframeInterval)
            let imageBytes = frameBytes + slack
            ladder = [reference]
            ladderPosition = Array(repeating: .none, count: rungs + 1)
            for _ in 0..<rungs {
                let image = UnsafeMutablePointer<UInt8>.allocate(capacity: imageBytes)
                image.initialize(repeating: 0, count: imageBytes)
                ladder.append(image)
            }
        }
        let encoder = try ChunkCodec(codec: codec, level: level)
        let capacity = encoder.bound(frameBytes)
        zeroChunk = .allocate(byteCount: capacity, alignment: 64)
        let zeros = UnsafeMutableRawPointer.allocate(byteCount: frameBytes, alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: frameBytes)
        zeroChunkSize = encoder.encode(zeros, count: frameBytes, into: zeroChunk, capacity: capacity)
        zeros.deallocate()
        guard zeroChunkSize > 0 else { throw .storage("cannot encode an empty \(codec.rawValue) chunk") }
    }

    deinit {
        for image in ladder.dropFirst() { image.deallocate() }
        reference.deallocate()
        spare?.deallocate()
        zeroChunk.deallocate()
    }

    /// Starts a new dataset (the next part of a split session): the next frame is index 0 and whole,
    /// and no later frame refers to an image before it.
    package func restart() {
        index = 0
        lastKeyframeIndex = -1
        hasReference = false
        lastShift = .none
        lastPosition = .none
        velocity = .none
        wideSearchRestLeft = 0
    }

    /// Images the dyadic policy keeps besides the keyframe: the most bits set in an even offset below K.
    package static func dyadicRungs(keyframeInterval: Int) -> Int {
        let largestHalf = (keyframeInterval - 1) / 2
        guard largestHalf > 0 else { return 0 }
        // The most bits set in any m <= largestHalf: all ones below its top bit, or largestHalf itself.
        let belowTop = Int.bitWidth - largestHalf.leadingZeroBitCount - 1
        return max(belowTop, largestHalf.nonzeroBitCount)
    }

    /// Bytes of one uncompressed RGB frame.
    package var rawFrameBytes: Int { frameBytes }

    /// The chunk of an all-zero residual, for frames `prepare` found identical to their reference.
    package func identicalChunk(reference: Int64, shift: Shift) -> Encoded {
        Encoded(bytes: UnsafeRawPointer(zeroChunk), size: zeroChunkSize, reference: reference, isIdentical: true, shift: shift)
    }

    /// Plans the frame at `pixels` (BGRX, `bytesPerLine` apart) as the next frame of the dataset and,
    /// unless it is identical to its reference, writes the `rawFrameBytes` bytes to compress to `input`.
    package func prepare(pixels: UnsafeRawPointer, bytesPerLine: Int, into input: UnsafeMutablePointer<UInt8>) -> Plan {
        let source = pixels.assumingMemoryBound(to: UInt8.self)
        let due = !hasReference || keyframeInterval == 1 || index - lastKeyframeIndex >= Int64(keyframeInterval)
        defer { index += 1 }
        if due { return wholeImage(source, bytesPerLine: bytesPerLine, into: input) }
        if policy == .dyadic { return dyadicResidual(source, bytesPerLine: bytesPerLine, into: input) }
        let referenceIndex = policy == .previousFrame ? index - 1 : lastKeyframeIndex
        // Scrolling or a scene cut: store the image whole, skipping the residual pass.
        guard let placed = placement(source, bytesPerLine: bytesPerLine, against: reference, around: lastShift) else {
            return wholeImage(source, bytesPerLine: bytesPerLine, into: input)
        }
        if placed.searched { lastShift = placed.shift }
        if placed.shift != .none {
            return shiftedResidual(source, bytesPerLine: bytesPerLine, shift: placed.shift, referenceIndex: referenceIndex, into: input)
        }
        let updates = policy == .previousFrame
        let changed = CFrameKernels_bgrx_xor_rgb(source, bytesPerLine, width, height, reference, input, updates ? 1 : 0) != 0
        return Plan(reference: referenceIndex, isIdentical: !changed)
    }

    /// The residual against the frame the dyadic policy names; keeps this frame's image when a later
    /// frame will refer to it (even offsets).
    private func dyadicResidual(_ source: UnsafePointer<UInt8>, bytesPerLine: Int, into input: UnsafeMutablePointer<UInt8>) -> Plan {
        let offset = index - lastKeyframeIndex
        let parentOffset = offset & (offset - 1)
        let base = ladder[parentOffset.nonzeroBitCount]
        let keep = offset & 1 == 0 ? ladder[offset.nonzeroBitCount] : nil
        let basePosition = ladderPosition[parentOffset.nonzeroBitCount]
        let expected = Shift(dx: lastPosition.dx &+ velocity.dx &- basePosition.dx, dy: lastPosition.dy &+ velocity.dy &- basePosition.dy)
        guard let placed = placement(source, bytesPerLine: bytesPerLine, against: base, around: expected) else {
            return wholeImage(source, bytesPerLine: bytesPerLine, into: input)
        }
        let shift = placed.shift
        let position = Shift(dx: basePosition.dx &+ shift.dx, dy: basePosition.dy &+ shift.dy)
        velocity = Shift(dx: position.dx &- lastPosition.dx, dy: position.dy &- lastPosition.dy)
        lastPosition = position
        if keep != nil { ladderPosition[offset.nonzeroBitCount] = position }
        let changed: Bool
        if shift != .none || keep != nil {
            changed = CFrameKernels_bgrx_xor_rgb_shifted(source, bytesPerLine, width, height, base, shift.dx, shift.dy, input, keep) != 0
        } else {
            changed = CFrameKernels_bgrx_xor_rgb(source, bytesPerLine, width, height, base, input, 0) != 0
        }
        return Plan(reference: lastKeyframeIndex + parentOffset, isIdentical: !changed, shift: shift)
    }

    /// Where the frame lies against the image `base`: nil when it is densely changed even at the best
    /// displacement (store it whole), else the displacement to XOR with (`.none` when unmoved or not
    /// searched) and whether the motion search ran, starting at `center`.
    private func placement(_ source: UnsafePointer<UInt8>, bytesPerLine: Int, against base: UnsafePointer<UInt8>,
                           around center: Shift) -> (shift: Shift, searched: Bool)? {
        wideSearchRestLeft = max(0, wideSearchRestLeft - 1)
        guard codec != .none else { return (.none, false) }
        let still = CFrameKernels_sampled_changed_share(source, bytesPerLine, width, height, base, FrameEncoder.densitySampleStep)
        if motionReference && still > FrameEncoder.stillShare {
            // The search keeps the unmoved share as a candidate: nil only when that too is dense.
            return bestShift(source, bytesPerLine: bytesPerLine, reference: base, around: center, unshiftedShare: still).map { ($0, true) }
        }
        return still > FrameEncoder.denseChangeShare ? nil : (.none, false)
    }

    /// The frame stored whole; it becomes the reference (none is kept when every frame is whole).
    private func wholeImage(_ source: UnsafePointer<UInt8>, bytesPerLine: Int, into input: UnsafeMutablePointer<UInt8>) -> Plan {
        CFrameKernels_bgrx_to_rgb(source, bytesPerLine, width, height, input)
        if keyframeInterval > 1 { reference.update(from: input, count: frameBytes) }
        return keyframe()
    }

    /// The displacement of the reference that leaves the fewest sampled pixels changed, `.none` when not
    /// moving beats every displacement, nil when even the best leaves the frame densely changed (then the
    /// frame was stored whole).
    private func bestShift(_ source: UnsafePointer<UInt8>, bytesPerLine: Int, reference: UnsafePointer<UInt8>, around center: Shift,
                           unshiftedShare: Double) -> Shift? {
        var dx: Int32 = 0, dy: Int32 = 0
        let searchWide = wideSearchRestLeft == 0
        let share = CFrameKernels_find_shift(source, bytesPerLine, width, height, reference, FrameEncoder.densitySampleStep,
                                        unshiftedShare, center.dx, center.dy, searchWide ? 1 : 0,
                                        FrameEncoder.denseChangeShare, &dx, &dy)
        guard share <= FrameEncoder.denseChangeShare else {
            if searchWide { wideSearchRestLeft = FrameEncoder.wideSearchRest }
            return nil
        }
        return Shift(dx: dx, dy: dy)
    }

    /// Residual against the reference displaced by `shift`; the previous-frame policy keeps the new image.
    private func shiftedResidual(_ source: UnsafePointer<UInt8>, bytesPerLine: Int, shift: Shift, referenceIndex: Int64,
                                 into input: UnsafeMutablePointer<UInt8>) -> Plan {
        let keep = policy == .previousFrame ? spare : nil
        let changed = CFrameKernels_bgrx_xor_rgb_shifted(source, bytesPerLine, width, height, reference, shift.dx, shift.dy, input, keep) != 0
        if let keep {
            spare = reference
            reference = keep
        }
        return Plan(reference: referenceIndex, isIdentical: !changed, shift: shift)
    }

    private func keyframe() -> Plan {
        hasReference = true
        lastShift = .none
        // The keyframe is the new origin; the pan's speed carries over.
        lastPosition = .none
        lastKeyframeIndex = index
        return Plan(reference: -1, isIdentical: false)
    }
}
