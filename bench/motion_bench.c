// Motion reference on real frames: displacement search cost and the shifted residual's zstd time and
// size against storing each frame whole, with the recorder's own kernels and zstd profile.
// Usage: motion_bench WIDTH HEIGHT FRAME.rgb...   (consecutive frames; see motion_bench.sh)
// The first frame is the keyframe; each later one is searched and XORed against it, as the writer
// does under the default last-keyframe policy. Then a noise frame measures a search that finds nothing.
#include "CChunkCodec.h"
#include "CFrameKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void load(const char *path, size_t pixels, uint8_t *bgrx) {
    uint8_t *rgb = malloc(pixels * 3);
    FILE *f = fopen(path, "rb");
    if (!f || fread(rgb, 1, pixels * 3, f) != pixels * 3) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
    fclose(f);
    for (size_t k = 0; k < pixels; k++) {
        bgrx[4 * k] = rgb[3 * k + 2]; bgrx[4 * k + 1] = rgb[3 * k + 1]; bgrx[4 * k + 2] = rgb[3 * k]; bgrx[4 * k + 3] = 0;
    }
    free(rgb);
}

/// The writer's search (CFrameKernels_find_shift, every stage allowed) against the unshifted share.
static double search(const uint8_t *bgrx, size_t w, size_t h, const uint8_t *ref, int lx, int ly, int *dx, int *dy) {
    double unshifted = CFrameKernels_sampled_changed_share(bgrx, w * 4, w, h, ref, 1021);
    return CFrameKernels_find_shift(bgrx, w * 4, w, h, ref, 1021, unshifted, lx, ly, 1, 0.5, dx, dy);
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s WIDTH HEIGHT FRAME.rgb FRAME.rgb...\n", argv[0]); return 2; }
    size_t w = (size_t)atoi(argv[1]), h = (size_t)atoi(argv[2]), pixels = w * h, bytes = pixels * 3;
    uint8_t *bgrx = malloc(pixels * 4), *ref = malloc(bytes + 64), *residual = malloc(bytes + 64);
    CChunkCodec_encoder *codec = CChunkCodec_encoder_create(CCHUNKCODEC_ZSTD, 1);
    size_t capacity = CChunkCodec_encoder_bound(codec, bytes);
    uint8_t *chunk = malloc(capacity);
    load(argv[3], pixels, bgrx);
    CFrameKernels_bgrx_to_rgb(bgrx, w * 4, w, h, ref);
    printf("| frame | displacement | sampled share | search ms | residual: xor + zstd ms | KB | whole: convert + zstd ms | KB |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    int lx = 0, ly = 0;
    double total_search = 0, total_motion = 0, total_whole = 0, kb_motion = 0, kb_whole = 0;
    int counted = 0;
    for (int i = 4; i < argc; i++) {
        load(argv[i], pixels, bgrx);
        int dx = 0, dy = 0;
        double t0 = now();
        double share = search(bgrx, w, h, ref, lx, ly, &dx, &dy);
        double t1 = now();
        size_t motion_size = 0;
        double t2 = t1, t3 = t1;
        if (share <= 0.5) {
            CFrameKernels_bgrx_xor_rgb_shifted(bgrx, w * 4, w, h, ref, dx, dy, residual, NULL);
            motion_size = CChunkCodec_encode(codec, residual, bytes, chunk, capacity);
            t2 = now();
            lx = dx; ly = dy;
        }
        t3 = now();
        CFrameKernels_bgrx_to_rgb(bgrx, w * 4, w, h, residual);
        size_t whole_size = CChunkCodec_encode(codec, residual, bytes, chunk, capacity);
        double t4 = now();
        printf("| %s | %d,%d | %.3f | %.2f | %.2f | %.0f | %.2f | %.0f |\n", argv[i], dx, dy, share, (t1 - t0) * 1e3,
               (t2 - t1) * 1e3, motion_size / 1024.0, (t4 - t3) * 1e3, whole_size / 1024.0);
        if (share <= 0.5) {
            total_search += t1 - t0; total_motion += t2 - t1; total_whole += t4 - t3;
            kb_motion += motion_size / 1024.0; kb_whole += whole_size / 1024.0; counted++;
        }
    }
    if (counted) {
        printf("\nmean over %d frames with a displacement: search %.2f ms + residual %.2f ms, %.0f KB; whole %.2f ms, %.0f KB\n",
               counted, total_search * 1e3 / counted, total_motion * 1e3 / counted, kb_motion / counted,
               total_whole * 1e3 / counted, kb_whole / counted);
    }
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (size_t k = 0; k < pixels * 4; k++) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; bgrx[k] = (uint8_t)state; }
    int dx, dy;
    double t0 = now();
    double share = search(bgrx, w, h, ref, 0, 0, &dx, &dy);
    printf("noise frame (nothing matches): all stages %.2f ms, best share %.3f\n", (now() - t0) * 1e3, share);
    CChunkCodec_encoder_free(codec);
    return 0;
}
