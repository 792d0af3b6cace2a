import CX11Shim
import RecorderCore

/// One compression context of the session codec: turns a packed RGB image or residual into the bytes
/// of one `/video/frames` chunk.
///
/// Each instance belongs to the thread that created it (a zstd context is not thread-safe).
final class ChunkCodec {
    let codec: SessionOptions.Codec
    private let context: OpaquePointer

    init(codec: SessionOptions.Codec, level: Int) throws(RecorderError) {
        self.codec = codec
        guard let context = CX11Shim_frame_codec_create(ChunkCodec.cCodec(codec), Int32(level)) else {
            throw .storage("cannot create the \(codec.rawValue) encoder")
        }
        self.context = context
    }

    deinit { CX11Shim_frame_codec_free(context) }

    static func cCodec(_ codec: SessionOptions.Codec) -> Int32 {
        switch codec {
        case .none: return Int32(CX11SHIM_CODEC_NONE)
        case .zstd: return Int32(CX11SHIM_CODEC_ZSTD)
        case .lz4: return Int32(CX11SHIM_CODEC_LZ4)
        }
    }

    /// The largest chunk `byteCount` input bytes can become.
    func bound(_ byteCount: Int) -> Int { CX11Shim_frame_codec_bound(context, byteCount) }

    /// Encodes `count` bytes at `input` into `output`; returns the chunk size, 0 on failure.
    func encode(_ input: UnsafeRawPointer, count: Int, into output: UnsafeMutableRawPointer, capacity: Int) -> Int {
        CX11Shim_frame_codec_encode(context, input, count, output, capacity)
    }
}
