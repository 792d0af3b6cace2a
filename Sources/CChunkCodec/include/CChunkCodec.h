#ifndef CCHUNKCODEC_H
#define CCHUNKCODEC_H
#include <stddef.h>
#include <stdint.h>

/// Chunk codecs of `/video/frames`: Zstandard frames and hdf5plugin's LZ4 framing, byte-compatible with
/// the HDF5 filters 32015 and 32004 (CHDF5Shim registers filters that call these functions).

/// Codec ids, same numbering as the Swift `ChunkCodec`.
enum {
    CCHUNKCODEC_NONE = 0,
    CCHUNKCODEC_ZSTD = 1,
    CCHUNKCODEC_LZ4 = 2,
};

/// Compression state reused across frames (no allocation per frame).
typedef struct CChunkCodec_encoder CChunkCodec_encoder;

/// Creates an encoder (`CCHUNKCODEC_*`) at `level` (zstd level, lz4 acceleration); zstd level 1 uses a
/// profile tuned for screen content (double-hash search, 8 MiB window). NULL on failure.
CChunkCodec_encoder *CChunkCodec_encoder_create(int codec, int level);
void CChunkCodec_encoder_free(CChunkCodec_encoder *encoder);
/// Largest encoded size of `size` input bytes.
size_t CChunkCodec_encoder_bound(const CChunkCodec_encoder *encoder, size_t size);
/// Encodes `size` bytes into `dst` (capacity `capacity`, at least the bound) as one HDF5 chunk the
/// filter decodes. Returns the encoded size, 0 on failure.
size_t CChunkCodec_encode(CChunkCodec_encoder *encoder, const void *src, size_t size, void *dst, size_t capacity);

/// Largest chunk of codec `codec` that `size` input bytes can become.
size_t CChunkCodec_bound(int codec, size_t size);
/// Encodes without a reusable context at the stock `level` (the HDF5 filter path). Returns the
/// encoded size, 0 on failure.
size_t CChunkCodec_encode_once(int codec, int level, const void *src, size_t size, void *dst, size_t capacity);
/// The size a chunk of codec `codec` says it decodes to, from its header; SIZE_MAX when the header is
/// damaged or does not say.
size_t CChunkCodec_decoded_size(int codec, const void *src, size_t size);
/// Decodes one chunk of codec `codec` into exactly `expected` bytes. Returns 0 on success, -1 when the
/// chunk is damaged or decodes to another size.
int CChunkCodec_decode(int codec, const void *src, size_t size, void *dst, size_t expected);
#endif
