import CX11Shim
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
final class FrameEncoder {
    /// One frame ready for `H5Dwrite_chunk`.
    struct Encoded {
        var bytes: UnsafeRawPointer
        var size: Int
        /// -1 for a whole image, else the index of the frame it is XORed with.
        var reference: Int64
        var isIdentical: Bool
    }

    /// What `prepare` decided for one frame.
    struct Plan {
        /// -1 for a whole image, else the index of the frame it is XORed with.
        var reference: Int64
        /// The residual is all zeros: store `zeroChunk`, nothing to compress.
        var isIdentical: Bool
    }

    let width: Int
    let height: Int
    let codec: SessionOptions.Codec
    let keyframeInterval: Int
    let policy: ReferencePolicy
    /// A frame with more changed pixels than this share is stored whole (scrolling, a scene cut): its
    /// residual would compress no better than the image. On OpenTTD at 1080p accepted residuals change
    /// at most ~26% of the pixels, a scrolling view ~65-80%, a new random image ~100%.
    static let denseChangeShare = 0.5
    /// Every this many pixels is looked at for the estimate (prime: all columns; ~2,000 samples at
    /// 1080p, a few microseconds), before any full pass over the frame.
    static let densitySampleStep = 1021

    private let frameBytes: Int
    /// The reference image (previous frame, or last keyframe) as packed RGB.
    private let reference: UnsafeMutablePointer<UInt8>
    /// The all-zero residual, compressed once.
    private let zeroChunk: UnsafeMutableRawPointer
    private let zeroChunkSize: Int

    /// Frames prepared so far (the next frame's index).
    private(set) var index: Int64 = 0
    private var lastKeyframeIndex: Int64 = -1
    private var hasReference = false

    init(width: Int, height: Int, codec: SessionOptions.Codec, level: Int, keyframeInterval: Int, policy: ReferencePolicy) throws(RecorderError) {
        self.width = width
        self.height = height
        self.codec = codec
        self.keyframeInterval = max(1, keyframeInterval)
        self.policy = policy
        frameBytes = width * height * 3
        let slack = 64 // the SIMD kernels store 16 bytes at a time
        reference = .allocate(capacity: frameBytes + slack)
        reference.initialize(repeating: 0, count: frameBytes + slack)
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
        zeroChunk.deallocate()
    }

    /// Bytes of one uncompressed RGB frame.
    var rawFrameBytes: Int { frameBytes }

    /// The chunk of an all-zero residual, for frames `prepare` found identical to their reference.
    func identicalChunk(reference: Int64) -> Encoded {
        Encoded(bytes: UnsafeRawPointer(zeroChunk), size: zeroChunkSize, reference: reference, isIdentical: true)
    }

    /// Plans the frame at `pixels` (BGRX, `bytesPerLine` apart) as the next frame of the dataset and,
    /// unless it is identical to its reference, writes the `rawFrameBytes` bytes to compress to `input`.
    func prepare(pixels: UnsafeRawPointer, bytesPerLine: Int, into input: UnsafeMutablePointer<UInt8>) -> Plan {
        let source = pixels.assumingMemoryBound(to: UInt8.self)
        let due = !hasReference || keyframeInterval == 1 || index - lastKeyframeIndex >= Int64(keyframeInterval)
        defer { index += 1 }
        if due {
            CX11Shim_bgrx_to_rgb(source, bytesPerLine, width, height, input)
            if keyframeInterval > 1 { reference.update(from: input, count: frameBytes) }
            return keyframe()
        }
        if codec != .none,
           CX11Shim_sampled_changed_share(source, bytesPerLine, width, height, reference, FrameEncoder.densitySampleStep)
               > FrameEncoder.denseChangeShare {
            // Scrolling or a scene cut: store the image whole, skipping the residual pass.
            CX11Shim_bgrx_to_rgb(source, bytesPerLine, width, height, input)
            reference.update(from: input, count: frameBytes)
            return keyframe()
        }
        let updates = policy == .previousFrame
        let changed = CX11Shim_bgrx_xor_rgb(source, bytesPerLine, width, height, reference, input, updates ? 1 : 0) != 0
        let referenceIndex = policy == .previousFrame ? index - 1 : lastKeyframeIndex
        return Plan(reference: referenceIndex, isIdentical: !changed)
    }

    private func keyframe() -> Plan {
        hasReference = true
        lastKeyframeIndex = index
        return Plan(reference: -1, isIdentical: false)
    }
}
