import CFrameKernels
import RecorderCore

/// Which earlier image a residual frame is XORed against.
public enum ReferencePolicy: String, Sendable, Codable {
    /// image(i) = image(i-1) XOR frames[i]: smallest residuals, decoding frame i replays the chain
    /// back to the last keyframe (at most `keyframeInterval` - 1 XORs).
    case previousFrame = "previous-frame"
    /// image(i) = image(k) XOR frames[i] with k the last keyframe: any frame decodes from two chunks.
    case lastKeyframe = "last-keyframe"
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
        wideSearchRestLeft = 0
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
        let referenceIndex = policy == .previousFrame ? index - 1 : lastKeyframeIndex
        wideSearchRestLeft = max(0, wideSearchRestLeft - 1)
        if codec != .none {
            let still = CFrameKernels_sampled_changed_share(source, bytesPerLine, width, height, reference, FrameEncoder.densitySampleStep)
            if motionReference && still > FrameEncoder.stillShare,
               let shift = bestShift(source, bytesPerLine: bytesPerLine, unshiftedShare: still) {
                lastShift = shift
                if shift != .none { return shiftedResidual(source, bytesPerLine: bytesPerLine, shift: shift, referenceIndex: referenceIndex, into: input) }
            } else if still > FrameEncoder.denseChangeShare {
                // Scrolling or a scene cut: store the image whole, skipping the residual pass.
                return wholeImage(source, bytesPerLine: bytesPerLine, into: input)
            }
        }
        let updates = policy == .previousFrame
        let changed = CFrameKernels_bgrx_xor_rgb(source, bytesPerLine, width, height, reference, input, updates ? 1 : 0) != 0
        return Plan(reference: referenceIndex, isIdentical: !changed)
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
    private func bestShift(_ source: UnsafePointer<UInt8>, bytesPerLine: Int, unshiftedShare: Double) -> Shift? {
        var dx: Int32 = 0, dy: Int32 = 0
        let searchWide = wideSearchRestLeft == 0
        let share = CFrameKernels_find_shift(source, bytesPerLine, width, height, reference, FrameEncoder.densitySampleStep,
                                        unshiftedShare, lastShift.dx, lastShift.dy, searchWide ? 1 : 0,
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
        lastKeyframeIndex = index
        return Plan(reference: -1, isIdentical: false)
    }
}
