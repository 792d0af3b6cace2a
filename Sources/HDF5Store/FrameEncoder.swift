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

/// Turns BGRX capture slots into the chunk bytes of `/video/frames`: whole RGB images or XOR residuals,
/// compressed by the session codec, with every buffer allocated once.
final class FrameEncoder {
    /// One frame ready for `H5Dwrite_chunk`; `bytes` stays valid until the next `encode`.
    struct Encoded {
        var bytes: UnsafeRawPointer
        var size: Int
        /// -1 for a whole image, else the index of the frame it is XORed with.
        var reference: Int64
        var isIdentical: Bool
    }

    let width: Int
    let height: Int
    let codec: SessionOptions.Codec
    let keyframeInterval: Int
    let policy: ReferencePolicy
    /// A residual whose compressed size passes this fraction of the last keyframe's ends the run
    /// (a scene cut): the frame is stored whole instead.
    static let residualBudget = 0.5
    /// A residual with more non-zero bytes than this share is not worth compressing as one: it cannot
    /// come near `residualBudget` of a keyframe, so it is stored whole straight away. On OpenTTD at 1080p
    /// accepted residuals have at most ~26% non-zero bytes, a scrolling view 65-82%; compressing such a
    /// residual only to throw it away cost ~9 ms of zstd per frame on top of the keyframe's ~18 ms.
    static let denseResidualShare = 0.5
    /// Every this many bytes is looked at for the density estimate (prime: all channels and columns;
    /// ~6,000 samples at 1080p, a few microseconds).
    static let densitySampleStep = 1021

    private let frameBytes: Int
    private let coder: OpaquePointer
    /// The reference image (previous frame, or last keyframe) as packed RGB.
    private let reference: UnsafeMutablePointer<UInt8>
    /// The residual of the current frame (also the RGB image when there is no reference).
    private let scratch: UnsafeMutablePointer<UInt8>
    private let output: UnsafeMutableRawPointer
    private let outputCapacity: Int
    /// The all-zero residual, compressed once.
    private let zeroChunk: UnsafeMutableRawPointer
    private let zeroChunkSize: Int

    /// Frames encoded so far (the next frame's index).
    private(set) var index: Int64 = 0
    private var lastKeyframeIndex: Int64 = -1
    private var lastKeyframeSize = 0
    private var hasReference = false

    init(width: Int, height: Int, codec: SessionOptions.Codec, level: Int, keyframeInterval: Int, policy: ReferencePolicy) throws(RecorderError) {
        self.width = width
        self.height = height
        self.codec = codec
        self.keyframeInterval = max(1, keyframeInterval)
        self.policy = policy
        frameBytes = width * height * 3
        guard let coder = CX11Shim_frame_codec_create(FrameEncoder.cCodec(codec), Int32(level)) else {
            throw .storage("cannot create the \(codec.rawValue) encoder")
        }
        self.coder = coder
        let slack = 64 // the SIMD kernels store 16 bytes at a time
        reference = .allocate(capacity: frameBytes + slack)
        reference.initialize(repeating: 0, count: frameBytes + slack)
        scratch = .allocate(capacity: frameBytes + slack)
        scratch.initialize(repeating: 0, count: frameBytes + slack)
        outputCapacity = CX11Shim_frame_codec_bound(coder, frameBytes)
        output = .allocate(byteCount: outputCapacity, alignment: 64)
        zeroChunk = .allocate(byteCount: outputCapacity, alignment: 64)
        zeroChunkSize = CX11Shim_frame_codec_encode(coder, scratch, frameBytes, zeroChunk, outputCapacity)
        guard zeroChunkSize > 0 else { throw .storage("cannot encode an empty \(codec.rawValue) chunk") }
    }

    deinit {
        CX11Shim_frame_codec_free(coder)
        reference.deallocate()
        scratch.deallocate()
        output.deallocate()
        zeroChunk.deallocate()
    }

    static func cCodec(_ codec: SessionOptions.Codec) -> Int32 {
        switch codec {
        case .none: return Int32(CX11SHIM_CODEC_NONE)
        case .zstd: return Int32(CX11SHIM_CODEC_ZSTD)
        case .lz4: return Int32(CX11SHIM_CODEC_LZ4)
        }
    }

    /// Bytes of one uncompressed RGB frame.
    var rawFrameBytes: Int { frameBytes }

    /// Encodes the frame at `pixels` (BGRX, `bytesPerLine` apart) as the next frame of the dataset.
    func encode(pixels: UnsafeRawPointer, bytesPerLine: Int) throws(RecorderError) -> Encoded {
        let source = pixels.assumingMemoryBound(to: UInt8.self)
        let due = !hasReference || keyframeInterval == 1 || index - lastKeyframeIndex >= Int64(keyframeInterval)
        defer { index += 1 }
        if due {
            return try encodeKeyframe { CX11Shim_bgrx_to_rgb(source, bytesPerLine, width, height, reference) }
        }
        let updates = policy == .previousFrame
        let changed = CX11Shim_bgrx_xor_rgb(source, bytesPerLine, width, height, reference, scratch, updates ? 1 : 0) != 0
        let referenceIndex = policy == .previousFrame ? index - 1 : lastKeyframeIndex
        if !changed {
            return Encoded(bytes: UnsafeRawPointer(zeroChunk), size: zeroChunkSize, reference: referenceIndex, isIdentical: true)
        }
        if codec != .none,
           CX11Shim_sampled_nonzero_share(scratch, frameBytes, FrameEncoder.densitySampleStep) > FrameEncoder.denseResidualShare {
            // Scrolling or a scene cut: the residual is mostly noise, store the whole image without trying it.
            return try encodeKeyframe {
                if !updates { CX11Shim_xor_into(reference, scratch, frameBytes) }
            }
        }
        let size = CX11Shim_frame_codec_encode(coder, scratch, frameBytes, output, outputCapacity)
        guard size > 0 else { throw .storage("\(codec.rawValue) failed to encode frame \(index)") }
        if Double(size) <= Double(lastKeyframeSize) * FrameEncoder.residualBudget || codec == .none {
            return Encoded(bytes: UnsafeRawPointer(output), size: size, reference: referenceIndex, isIdentical: false)
        }
        // Scene cut: the residual no longer pays, store the whole image (rebuilt from the residual).
        return try encodeKeyframe {
            if !updates { CX11Shim_xor_into(reference, scratch, frameBytes) }
        }
    }

    /// Makes `reference` hold the current image with `prepare`, then compresses it as a whole frame.
    private func encodeKeyframe(_ prepare: () -> Void) throws(RecorderError) -> Encoded {
        prepare()
        let size = CX11Shim_frame_codec_encode(coder, reference, frameBytes, output, outputCapacity)
        guard size > 0 else { throw .storage("\(codec.rawValue) failed to encode frame \(index)") }
        hasReference = true
        lastKeyframeIndex = index
        lastKeyframeSize = size
        return Encoded(bytes: UnsafeRawPointer(output), size: size, reference: -1, isIdentical: false)
    }
}
