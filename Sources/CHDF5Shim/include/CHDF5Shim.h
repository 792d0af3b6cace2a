#ifndef CX11SHIM_HDF5_H
#define CX11SHIM_HDF5_H
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/// HDF5's runtime globals and cast macros, which Swift cannot import.
hid_t CX11Shim_H5P_DEFAULT(void);
hid_t CX11Shim_H5P_FILE_ACCESS(void);
hid_t CX11Shim_H5P_FILE_CREATE(void);
hid_t CX11Shim_H5P_DATASET_CREATE(void);
hid_t CX11Shim_H5P_DATASET_ACCESS(void);
hid_t CX11Shim_H5P_DATASET_XFER(void);
hid_t CX11Shim_H5P_LINK_CREATE(void);
hid_t CX11Shim_H5S_ALL(void);
hsize_t CX11Shim_H5S_UNLIMITED(void);
hid_t CX11Shim_H5T_NATIVE_UINT8(void);
hid_t CX11Shim_H5T_NATIVE_INT8(void);
hid_t CX11Shim_H5T_NATIVE_UINT16(void);
hid_t CX11Shim_H5T_NATIVE_INT16(void);
hid_t CX11Shim_H5T_NATIVE_UINT32(void);
hid_t CX11Shim_H5T_NATIVE_INT32(void);
hid_t CX11Shim_H5T_NATIVE_UINT64(void);
hid_t CX11Shim_H5T_NATIVE_INT64(void);
hid_t CX11Shim_H5T_NATIVE_FLOAT(void);
hid_t CX11Shim_H5T_NATIVE_DOUBLE(void);
hid_t CX11Shim_H5T_C_S1(void);
hid_t CX11Shim_H5T_STD_U8LE(void);
hid_t CX11Shim_H5T_STD_I8LE(void);
hid_t CX11Shim_H5T_STD_U16LE(void);
hid_t CX11Shim_H5T_STD_I16LE(void);
hid_t CX11Shim_H5T_STD_U32LE(void);
hid_t CX11Shim_H5T_STD_I32LE(void);
hid_t CX11Shim_H5T_STD_U64LE(void);
hid_t CX11Shim_H5T_STD_I64LE(void);
hid_t CX11Shim_H5T_IEEE_F32LE(void);
hid_t CX11Shim_H5T_IEEE_F64LE(void);
/// Silences HDF5's default error stack printing (errors are reported through our own log).
void CX11Shim_H5_silence_errors(void);

/// File access flags (macros that call H5open, which Swift cannot import).
unsigned CX11Shim_H5F_ACC_RDONLY(void);
unsigned CX11Shim_H5F_ACC_RDWR(void);
unsigned CX11Shim_H5F_ACC_TRUNC(void);
unsigned CX11Shim_H5F_ACC_EXCL(void);
unsigned CX11Shim_H5F_ACC_SWMR_WRITE(void);
unsigned CX11Shim_H5F_ACC_SWMR_READ(void);
hid_t CX11Shim_H5P_GROUP_CREATE(void);
hid_t CX11Shim_H5T_NATIVE_B8(void);
size_t CX11Shim_H5T_VARIABLE(void);

/// Sets the private file-access properties `h5clear -s --increment=0` uses: clear the superblock's
/// "file is open for writing" flags and skip the EOA/EOF check, so a file left by a killed SWMR
/// writer opens read-write. Returns a negative value on failure.
herr_t CX11Shim_H5P_set_recovery_access(hid_t fapl);

/// Filter ids of the registered codecs (hdf5plugin / Debian hdf5-filter-plugin numbering).
#define CX11SHIM_FILTER_ZSTD 32015
#define CX11SHIM_FILTER_LZ4 32004

/// Frame chunk codecs, same numbering as the Swift `FrameCodec`.
enum {
    CX11SHIM_CODEC_NONE = 0,
    CX11SHIM_CODEC_ZSTD = 1,
    CX11SHIM_CODEC_LZ4 = 2,
};

/// Registers in-process Zstandard (32015) and LZ4 (32004) filters with real encode and decode
/// functions (libzstd, liblz4), byte-compatible with hdf5plugin's. Returns a negative value on failure.
herr_t CX11Shim_H5Z_register_codecs(void);

/// Compression state reused across frames (no allocation per frame).
typedef struct CX11Shim_frame_codec CX11Shim_frame_codec;

/// Creates a codec (`CX11SHIM_CODEC_*`) at `level` (zstd level, lz4 acceleration); zstd level 1 uses a
/// profile tuned for screen content (double-hash search, 8 MiB window). NULL on failure.
CX11Shim_frame_codec *CX11Shim_frame_codec_create(int codec, int level);
void CX11Shim_frame_codec_free(CX11Shim_frame_codec *codec);
/// Largest encoded size of `size` input bytes.
size_t CX11Shim_frame_codec_bound(const CX11Shim_frame_codec *codec, size_t size);
/// Encodes `size` bytes into `dst` (capacity `capacity`, at least the bound) as one HDF5 chunk the
/// filter decodes. Returns the encoded size, 0 on failure.
size_t CX11Shim_frame_codec_encode(CX11Shim_frame_codec *codec, const void *src, size_t size, void *dst, size_t capacity);
/// Decodes one chunk of codec `codec` into exactly `expected` bytes. Returns 0 on success, -1 when the
/// chunk is damaged or decodes to another size.
int CX11Shim_frame_decode(int codec, const void *src, size_t size, void *dst, size_t expected);

/// Converts `height` rows of BGRX pixels (`stride` bytes apart) into packed RGB at `rgb`.
void CX11Shim_bgrx_to_rgb(const uint8_t *src, size_t stride, size_t width, size_t height, uint8_t *rgb);

/// One fused pass: residual = RGB(src) XOR reference; when `update_reference` is non-zero the reference
/// becomes RGB(src). Returns 1 when any residual byte is non-zero, 0 when the frame equals the reference.
int CX11Shim_bgrx_xor_rgb(const uint8_t *src, size_t stride, size_t width, size_t height,
                          uint8_t *reference, uint8_t *residual, int update_reference);

#endif
