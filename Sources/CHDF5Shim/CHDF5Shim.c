#include "CX11Shim_hdf5.h"

hid_t CX11Shim_H5P_DEFAULT(void) { return H5P_DEFAULT; }
hid_t CX11Shim_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
hid_t CX11Shim_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
hid_t CX11Shim_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
hid_t CX11Shim_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
hid_t CX11Shim_H5P_DATASET_XFER(void) { return H5P_DATASET_XFER; }
hid_t CX11Shim_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
hid_t CX11Shim_H5S_ALL(void) { return H5S_ALL; }
hsize_t CX11Shim_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
hid_t CX11Shim_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
hid_t CX11Shim_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
hid_t CX11Shim_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
hid_t CX11Shim_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
hid_t CX11Shim_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
hid_t CX11Shim_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
hid_t CX11Shim_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
hid_t CX11Shim_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
hid_t CX11Shim_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
hid_t CX11Shim_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
hid_t CX11Shim_H5T_C_S1(void) { return H5T_C_S1; }
hid_t CX11Shim_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
hid_t CX11Shim_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
hid_t CX11Shim_H5T_STD_U16LE(void) { return H5T_STD_U16LE; }
hid_t CX11Shim_H5T_STD_I16LE(void) { return H5T_STD_I16LE; }
hid_t CX11Shim_H5T_STD_U32LE(void) { return H5T_STD_U32LE; }
hid_t CX11Shim_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
hid_t CX11Shim_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
hid_t CX11Shim_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
hid_t CX11Shim_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
hid_t CX11Shim_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
void CX11Shim_H5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <lz4.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

unsigned CX11Shim_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
unsigned CX11Shim_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
unsigned CX11Shim_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
unsigned CX11Shim_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
unsigned CX11Shim_H5F_ACC_SWMR_WRITE(void) { return H5F_ACC_SWMR_WRITE; }
unsigned CX11Shim_H5F_ACC_SWMR_READ(void) { return H5F_ACC_SWMR_READ; }
hid_t CX11Shim_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
hid_t CX11Shim_H5T_NATIVE_B8(void) { return H5T_NATIVE_B8; }
size_t CX11Shim_H5T_VARIABLE(void) { return H5T_VARIABLE; }

herr_t CX11Shim_H5P_set_recovery_access(hid_t fapl) {
    // The names of H5F_ACS_CLEAR_STATUS_FLAGS_NAME and H5F_ACS_SKIP_EOF_CHECK_NAME (H5Fprivate.h),
    // registered in every file-access property list; h5clear sets them the same way.
    hbool_t on = 1;
    if (H5Pset(fapl, "clear_status_flags", &on) < 0) return -1;
    if (H5Pset(fapl, "skip_eof_check", &on) < 0) return -1;
    return 0;
}

// MARK: - Chunk codecs

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void put_be64(uint8_t *p, uint64_t v) { put_be32(p, (uint32_t)(v >> 32)); put_be32(p + 4, (uint32_t)v); }
static uint32_t get_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t get_be64(const uint8_t *p) { return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4); }

/// The LZ4 block size we write: one block per chunk up to this size (the filter's 1 GiB default).
#define LZ4_FILTER_BLOCK (1u << 30)

static size_t lz4_bound(size_t size) {
    size_t blocks = size / LZ4_FILTER_BLOCK + 1;
    return 12 + blocks * 4 + (size_t)LZ4_compressBound((int)(size < LZ4_FILTER_BLOCK ? size : LZ4_FILTER_BLOCK)) * blocks;
}

/// hdf5plugin's LZ4 framing: BE64 total size, BE32 block size, then per block BE32 size + data
/// (stored raw, with size == block length, when compression does not shrink it).
static size_t lz4_encode(const uint8_t *src, size_t size, uint8_t *dst, size_t capacity, int acceleration) {
    if (capacity < 12) return 0;
    uint32_t block = size < LZ4_FILTER_BLOCK ? (uint32_t)(size ? size : 1) : LZ4_FILTER_BLOCK;
    put_be64(dst, size);
    put_be32(dst + 8, block);
    size_t out = 12;
    for (size_t at = 0; at < size; at += block) {
        size_t length = size - at < block ? size - at : block;
        if (out + 4 > capacity) return 0;
        int room = (int)(capacity - out - 4 > (size_t)INT32_MAX ? INT32_MAX : capacity - out - 4);
        int packed = LZ4_compress_fast((const char *)src + at, (char *)dst + out + 4, (int)length, room, acceleration);
        if (packed <= 0 || (size_t)packed >= length) {
            if (out + 4 + length > capacity) return 0;
            memcpy(dst + out + 4, src + at, length);
            packed = (int)length;
        }
        put_be32(dst + out, (uint32_t)packed);
        out += 4 + (size_t)packed;
    }
    return out;
}

static int lz4_decode(const uint8_t *src, size_t size, uint8_t *dst, size_t expected) {
    if (size < 12) return -1;
    uint64_t total = get_be64(src);
    uint32_t block = get_be32(src + 8);
    if (total != expected || (block == 0 && total != 0)) return -1;
    size_t in = 12;
    for (size_t at = 0; at < total; at += block) {
        size_t length = total - at < block ? total - at : block;
        if (in + 4 > size) return -1;
        uint32_t packed = get_be32(src + in);
        in += 4;
        if (packed > size - in) return -1;
        if (packed == length) {
            memcpy(dst + at, src + in, length);
        } else {
            int got = LZ4_decompress_safe((const char *)src + in, (char *)dst + at, (int)packed, (int)length);
            if (got != (int)length) return -1;
        }
        in += packed;
    }
    return 0;
}

struct CX11Shim_frame_codec {
    int codec;
    int level;
    ZSTD_CCtx *zstd;
};

CX11Shim_frame_codec *CX11Shim_frame_codec_create(int codec, int level) {
    CX11Shim_frame_codec *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->codec = codec;
    c->level = level;
    if (codec == CX11SHIM_CODEC_ZSTD) {
        c->zstd = ZSTD_createCCtx();
        if (!c->zstd) { free(c); return NULL; }
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, level);
        if (level == 1) {
            // Screen profile for the default level: level 1's single-hash "fast" search misses the long
            // repeats of tiled screen content. On 1080p OpenTTD frames (bench/zstd_profile_bench.c) the
            // double-hash search over an 8 MiB window stores 26% fewer bytes for 9% more time.
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_strategy, ZSTD_dfast);
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_windowLog, 23);
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_hashLog, 17);
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_chainLog, 14);
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_searchLog, 1);
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_minMatch, 6);
        }
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_contentSizeFlag, 1); // the filter sizes its buffer from it
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 0);
    }
    return c;
}

void CX11Shim_frame_codec_free(CX11Shim_frame_codec *c) {
    if (!c) return;
    if (c->zstd) ZSTD_freeCCtx(c->zstd);
    free(c);
}

size_t CX11Shim_frame_codec_bound(const CX11Shim_frame_codec *c, size_t size) {
    switch (c->codec) {
    case CX11SHIM_CODEC_ZSTD: return ZSTD_compressBound(size);
    case CX11SHIM_CODEC_LZ4: return lz4_bound(size);
    default: return size;
    }
}

size_t CX11Shim_frame_codec_encode(CX11Shim_frame_codec *c, const void *src, size_t size, void *dst, size_t capacity) {
    switch (c->codec) {
    case CX11SHIM_CODEC_ZSTD: {
        size_t n = ZSTD_compress2(c->zstd, dst, capacity, src, size);
        return ZSTD_isError(n) ? 0 : n;
    }
    case CX11SHIM_CODEC_LZ4:
        return lz4_encode(src, size, dst, capacity, c->level < 1 ? 1 : c->level);
    default:
        if (capacity < size) return 0;
        memcpy(dst, src, size);
        return size;
    }
}

int CX11Shim_frame_decode(int codec, const void *src, size_t size, void *dst, size_t expected) {
    switch (codec) {
    case CX11SHIM_CODEC_ZSTD: {
        unsigned long long content = ZSTD_getFrameContentSize(src, size);
        if (content != expected) return -1;
        size_t n = ZSTD_decompress(dst, expected, src, size);
        return (!ZSTD_isError(n) && n == expected) ? 0 : -1;
    }
    case CX11SHIM_CODEC_LZ4:
        return lz4_decode(src, size, dst, expected);
    default:
        if (size != expected) return -1;
        memcpy(dst, src, size);
        return 0;
    }
}

// MARK: - HDF5 filters (in-process, so our own tools read what we write)

static size_t filter_swap(size_t produced, void *out, size_t *buf_size, void **buf) {
    H5free_memory(*buf);
    *buf = out;
    *buf_size = produced;
    return produced;
}

static size_t zstd_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                          size_t *buf_size, void **buf) {
    if (flags & H5Z_FLAG_REVERSE) {
        unsigned long long content = ZSTD_getFrameContentSize(*buf, nbytes);
        if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) return 0;
        void *out = H5allocate_memory((size_t)content ? (size_t)content : 1, false);
        if (!out) return 0;
        size_t n = ZSTD_decompress(out, (size_t)content, *buf, nbytes);
        if (ZSTD_isError(n)) { H5free_memory(out); return 0; }
        return filter_swap(n, out, buf_size, buf);
    }
    int level = cd_nelmts > 0 ? (int)cd_values[0] : 1;
    size_t bound = ZSTD_compressBound(nbytes);
    void *out = H5allocate_memory(bound, false);
    if (!out) return 0;
    size_t n = ZSTD_compress(out, bound, *buf, nbytes, level);
    if (ZSTD_isError(n)) { H5free_memory(out); return 0; }
    return filter_swap(n, out, buf_size, buf);
}

static size_t lz4_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                         size_t *buf_size, void **buf) {
    (void)cd_nelmts; (void)cd_values;
    if (flags & H5Z_FLAG_REVERSE) {
        if (nbytes < 12) return 0;
        uint64_t total = get_be64(*buf);
        void *out = H5allocate_memory(total ? (size_t)total : 1, false);
        if (!out) return 0;
        if (lz4_decode(*buf, nbytes, out, (size_t)total) != 0) { H5free_memory(out); return 0; }
        return filter_swap((size_t)total, out, buf_size, buf);
    }
    size_t bound = lz4_bound(nbytes);
    void *out = H5allocate_memory(bound, false);
    if (!out) return 0;
    size_t n = lz4_encode(*buf, nbytes, out, bound, 1);
    if (n == 0) { H5free_memory(out); return 0; }
    return filter_swap(n, out, buf_size, buf);
}

herr_t CX11Shim_H5Z_register_codecs(void) {
    static const H5Z_class2_t zstd_class = {
        H5Z_CLASS_T_VERS, (H5Z_filter_t)CX11SHIM_FILTER_ZSTD, 1, 1, "Zstandard (recorder)", NULL, NULL, zstd_filter,
    };
    static const H5Z_class2_t lz4_class = {
        H5Z_CLASS_T_VERS, (H5Z_filter_t)CX11SHIM_FILTER_LZ4, 1, 1, "LZ4 (recorder)", NULL, NULL, lz4_filter,
    };
    if (H5Zregister(&zstd_class) < 0) return -1;
    if (H5Zregister(&lz4_class) < 0) return -1;
    return 0;
}

// MARK: - BGRX -> RGB (+ XOR) kernels

static inline void bgrx_pixel_to_rgb(const uint8_t *p, uint8_t *o) { o[0] = p[2]; o[1] = p[1]; o[2] = p[0]; }

static void bgrx_to_rgb_scalar(const uint8_t *src, size_t stride, size_t width, size_t height, uint8_t *rgb) {
    for (size_t y = 0; y < height; y++) {
        const uint8_t *row = src + y * stride;
        uint8_t *out = rgb + y * width * 3;
        for (size_t x = 0; x < width; x++) bgrx_pixel_to_rgb(row + 4 * x, out + 3 * x);
    }
}

static int bgrx_xor_scalar_row(const uint8_t *row, size_t width, uint8_t *ref, uint8_t *res, int update) {
    uint8_t any = 0;
    for (size_t x = 0; x < width; x++) {
        uint8_t rgb[3];
        bgrx_pixel_to_rgb(row + 4 * x, rgb);
        for (int k = 0; k < 3; k++) {
            uint8_t d = rgb[k] ^ ref[3 * x + k];
            res[3 * x + k] = d;
            any |= d;
            if (update) ref[3 * x + k] = rgb[k];
        }
    }
    return any != 0;
}

#if defined(__x86_64__)
// Four BGRX pixels -> twelve RGB bytes in the low lanes, zeros in the top four.
#define RGB_SHUFFLE _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1)

/// Sixteen BGRX pixels -> 48 RGB bytes in three vectors (no partial overlaps, so stores never
/// stall later loads of the same bytes).
__attribute__((target("ssse3")))
static inline void rgb48(const uint8_t *p, __m128i shuffle, __m128i *o0, __m128i *o1, __m128i *o2) {
    __m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), shuffle);
    __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), shuffle);
    __m128i c = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), shuffle);
    __m128i d = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), shuffle);
    *o0 = _mm_or_si128(a, _mm_slli_si128(b, 12));
    *o1 = _mm_or_si128(_mm_srli_si128(b, 4), _mm_slli_si128(c, 8));
    *o2 = _mm_or_si128(_mm_srli_si128(c, 8), _mm_slli_si128(d, 4));
}

__attribute__((target("ssse3")))
static void bgrx_to_rgb_ssse3(const uint8_t *src, size_t stride, size_t width, size_t height, uint8_t *rgb) {
    const __m128i shuffle = RGB_SHUFFLE;
    for (size_t y = 0; y < height; y++) {
        const uint8_t *row = src + y * stride;
        uint8_t *out = rgb + y * width * 3;
        size_t x = 0;
        for (; x + 16 <= width; x += 16) {
            __m128i c0, c1, c2;
            rgb48(row + 4 * x, shuffle, &c0, &c1, &c2);
            __m128i *o = (__m128i *)(out + 3 * x);
            _mm_storeu_si128(o, c0);
            _mm_storeu_si128(o + 1, c1);
            _mm_storeu_si128(o + 2, c2);
        }
        for (; x < width; x++) bgrx_pixel_to_rgb(row + 4 * x, out + 3 * x);
    }
}

__attribute__((target("ssse3")))
static int bgrx_xor_ssse3(const uint8_t *src, size_t stride, size_t width, size_t height,
                          uint8_t *reference, uint8_t *residual, int update) {
    const __m128i shuffle = RGB_SHUFFLE;
    __m128i any = _mm_setzero_si128();
    int tail_any = 0;
    for (size_t y = 0; y < height; y++) {
        const uint8_t *row = src + y * stride;
        uint8_t *ref = reference + y * width * 3;
        uint8_t *res = residual + y * width * 3;
        size_t x = 0;
        for (; x + 16 <= width; x += 16) {
            __m128i c0, c1, c2;
            rgb48(row + 4 * x, shuffle, &c0, &c1, &c2);
            __m128i *r = (__m128i *)(ref + 3 * x);
            __m128i r0 = _mm_loadu_si128(r), r1 = _mm_loadu_si128(r + 1), r2 = _mm_loadu_si128(r + 2);
            __m128i d0 = _mm_xor_si128(c0, r0), d1 = _mm_xor_si128(c1, r1), d2 = _mm_xor_si128(c2, r2);
            any = _mm_or_si128(any, _mm_or_si128(d0, _mm_or_si128(d1, d2)));
            __m128i *o = (__m128i *)(res + 3 * x);
            _mm_storeu_si128(o, d0);
            _mm_storeu_si128(o + 1, d1);
            _mm_storeu_si128(o + 2, d2);
            if (update) {
                _mm_storeu_si128(r, c0);
                _mm_storeu_si128(r + 1, c1);
                _mm_storeu_si128(r + 2, c2);
            }
        }
        if (x < width) tail_any |= bgrx_xor_scalar_row(row + 4 * x, width - x, ref + 3 * x, res + 3 * x, update);
    }
    return tail_any || _mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128())) != 0xFFFF;
}
#endif

void CX11Shim_bgrx_to_rgb(const uint8_t *src, size_t stride, size_t width, size_t height, uint8_t *rgb) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("ssse3")) { bgrx_to_rgb_ssse3(src, stride, width, height, rgb); return; }
#endif
    bgrx_to_rgb_scalar(src, stride, width, height, rgb);
}

int CX11Shim_bgrx_xor_rgb(const uint8_t *src, size_t stride, size_t width, size_t height,
                          uint8_t *reference, uint8_t *residual, int update_reference) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("ssse3")) {
        return bgrx_xor_ssse3(src, stride, width, height, reference, residual, update_reference);
    }
#endif
    int any = 0;
    for (size_t y = 0; y < height; y++) {
        any |= bgrx_xor_scalar_row(src + y * stride, width, reference + y * width * 3, residual + y * width * 3,
                                   update_reference);
    }
    return any;
}
