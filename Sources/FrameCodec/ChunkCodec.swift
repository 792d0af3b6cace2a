import CChunkCodec
import RecorderCore

/// One compression context of the session codec: turns a packed RGB image or residual into the bytes
/// of one `/video/frames` chunk.
///
/// Each instance belongs to the thread that created it (a zstd context is not thread-safe).
package final class ChunkCodec {
    package let codec: SessionOptions.Codec
    private let context: OpaquePointer

    package init(codec: SessionOptions.Codec, level: Int) throws(RecorderError) {
        self.codec = codec
        guard let context = CChunkCodec_encoder_create(ChunkCodec.cCodec(codec), Int32(level)) else {
            throw .storage("cannot create the \(codec.rawValue) encoder")
        }
        self.context = context
    }

    deinit { CChunkCodec_encoder_free(context) }

    static func cCodec(_ codec: SessionOptions.Codec) -> Int32 {
        switch codec {
        case .none: return Int32(CCHUNKCODEC_NONE)
        case .zstd: return Int32(CCHUNKCODEC_ZSTD)
        case .lz4: return Int32(CCHUNKCODEC_LZ4)
        }
    }

    /// The largest chunk `byteCount` input bytes can become.
    package func bound(_ byteCount: Int) -> Int { CChunkCodec_encoder_bound(context, byteCount) }

    /// Encodes `count` bytes at `input` into `output`; returns the chunk size, 0 on failure.
    package func encode(_ input: UnsafeRawPointer, count: Int, into output: UnsafeMutableRawPointer, capacity: Int) -> Int {
        CChunkCodec_encode(context, input, count, output, capacity)
    }

    /// Decodes one chunk of `codec` into exactly `expected` bytes at `output`; false when the chunk is
    /// damaged or decodes to another size.
    package static func decode(_ codec: SessionOptions.Codec, _ chunk: UnsafeRawPointer, count: Int,
                               into output: UnsafeMutableRawPointer, expected: Int) -> Bool {
        CChunkCodec_decode(cCodec(codec), chunk, count, output, expected) == 0
    }
}
