#include "CChunkCodec.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <lz4.h>

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

struct CChunkCodec_encoder {
    int codec;
    int level;
    ZSTD_CCtx *zstd;
};

CChunkCodec_encoder *CChunkCodec_encoder_create(int codec, int level) {
    CChunkCodec_encoder *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->codec = codec;
    c->level = level;
    if (codec == CCHUNKCODEC_ZSTD) {
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

void CChunkCodec_encoder_free(CChunkCodec_encoder *c) {
    if (!c) return;
    if (c->zstd) ZSTD_freeCCtx(c->zstd);
    free(c);
}

size_t CChunkCodec_bound(int codec, size_t size) {
    switch (codec) {
    case CCHUNKCODEC_ZSTD: return ZSTD_compressBound(size);
    case CCHUNKCODEC_LZ4: return lz4_bound(size);
    default: return size;
    }
}

size_t CChunkCodec_encoder_bound(const CChunkCodec_encoder *c, size_t size) { return CChunkCodec_bound(c->codec, size); }

size_t CChunkCodec_encode(CChunkCodec_encoder *c, const void *src, size_t size, void *dst, size_t capacity) {
    switch (c->codec) {
    case CCHUNKCODEC_ZSTD: {
        size_t n = ZSTD_compress2(c->zstd, dst, capacity, src, size);
        return ZSTD_isError(n) ? 0 : n;
    }
    case CCHUNKCODEC_LZ4:
        return lz4_encode(src, size, dst, capacity, c->level < 1 ? 1 : c->level);
    default:
        if (capacity < size) return 0;
        memcpy(dst, src, size);
        return size;
    }
}

int CChunkCodec_decode(int codec, const void *src, size_t size, void *dst, size_t expected) {
    switch (codec) {
    case CCHUNKCODEC_ZSTD: {
        unsigned long long content = ZSTD_getFrameContentSize(src, size);
        if (content != expected) return -1;
        size_t n = ZSTD_decompress(dst, expected, src, size);
        return (!ZSTD_isError(n) && n == expected) ? 0 : -1;
    }
    case CCHUNKCODEC_LZ4:
        return lz4_decode(src, size, dst, expected);
    default:
        if (size != expected) return -1;
        memcpy(dst, src, size);
        return 0;
    }
}

size_t CChunkCodec_decoded_size(int codec, const void *src, size_t size) {
    switch (codec) {
    case CCHUNKCODEC_ZSTD: {
        unsigned long long content = ZSTD_getFrameContentSize(src, size);
        if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN || content > SIZE_MAX - 1) return SIZE_MAX;
        return (size_t)content;
    }
    case CCHUNKCODEC_LZ4:
        if (size < 12) return SIZE_MAX;
        return get_be64(src) > SIZE_MAX - 1 ? SIZE_MAX : (size_t)get_be64(src);
    default:
        return size;
    }
}

size_t CChunkCodec_encode_once(int codec, int level, const void *src, size_t size, void *dst, size_t capacity) {
    switch (codec) {
    case CCHUNKCODEC_ZSTD: {
        size_t n = ZSTD_compress(dst, capacity, src, size, level);
        return ZSTD_isError(n) ? 0 : n;
    }
    case CCHUNKCODEC_LZ4:
        return lz4_encode(src, size, dst, capacity, level < 1 ? 1 : level);
    default:
        if (capacity < size) return 0;
        memcpy(dst, src, size);
        return size;
    }
}
