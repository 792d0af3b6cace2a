// Compression time and size of whole RGB frames under zstd profiles: stock level 1, 2, 3 and the
// screen profile the recorder uses at level 1 (double-hash search, 8 MiB window). Best of 3 passes.
// Usage: zstd_profile_bench WIDTH HEIGHT FRAME.rgb...   (see zstd_profile_bench.sh)
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

struct profile { const char *name; int level, strategy, windowLog, hashLog, chainLog, minMatch; };

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s WIDTH HEIGHT FRAME.rgb...\n", argv[0]); return 2; }
    size_t size = (size_t)atoi(argv[1]) * (size_t)atoi(argv[2]) * 3;
    int count = argc - 3;
    unsigned char **frames = malloc(count * sizeof *frames), *out = malloc(ZSTD_compressBound(size));
    for (int i = 0; i < count; i++) {
        frames[i] = malloc(size);
        FILE *f = fopen(argv[i + 3], "rb");
        if (!f || fread(frames[i], 1, size, f) != size) { fprintf(stderr, "cannot read %s\n", argv[i + 3]); return 1; }
        fclose(f);
    }
    const struct profile profiles[] = {
        {"stock level 1", 1, 0, 0, 0, 0, 0},
        {"stock level 2", 2, 0, 0, 0, 0, 0},
        {"stock level 3", 3, 0, 0, 0, 0, 0},
        {"dfast w23 h16 c12 m6", 1, ZSTD_dfast, 23, 16, 12, 6},
        {"dfast w23 h17 c14 m6 (recorder level 1)", 1, ZSTD_dfast, 23, 17, 14, 6},
        {"dfast w23 h18 c16 m6", 1, ZSTD_dfast, 23, 18, 16, 6},
        {"fast w23 h17 m6", 1, ZSTD_fast, 23, 17, 0, 6},
        {"fast w23 h16 m7", 1, ZSTD_fast, 23, 16, 0, 7},
        {"fast w23 h15 m7", 1, ZSTD_fast, 23, 15, 0, 7},
        {"stock level -1", -1, 0, 0, 0, 0, 0},
        {"stock level -3", -3, 0, 0, 0, 0, 0},
        {"stock level -4 (the recorder's fast effort)", -4, 0, 0, 0, 0, 0},
        {"stock level -8", -8, 0, 0, 0, 0, 0},
        {"stock level -32", -32, 0, 0, 0, 0, 0},
    };
    printf("%d frames of %zu bytes\n| profile | ms per frame | KB per frame | ratio |\n|---|---|---|---|\n", count, size);
    for (size_t k = 0; k < sizeof profiles / sizeof profiles[0]; k++) {
        const struct profile *p = &profiles[k];
        ZSTD_CCtx *c = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, p->level);
        ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
        if (p->strategy) {
            ZSTD_CCtx_setParameter(c, ZSTD_c_strategy, p->strategy);
            ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, p->windowLog);
            ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, p->hashLog);
            if (p->chainLog) ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, p->chainLog);
            ZSTD_CCtx_setParameter(c, ZSTD_c_searchLog, 1);
            ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, p->minMatch);
        }
        double best = 1e9;
        size_t bytes = 0;
        for (int pass = 0; pass < 3; pass++) {
            double start = now();
            bytes = 0;
            for (int i = 0; i < count; i++) {
                size_t n = ZSTD_compress2(c, out, ZSTD_compressBound(size), frames[i], size);
                if (ZSTD_isError(n)) { fprintf(stderr, "%s\n", ZSTD_getErrorName(n)); return 1; }
                bytes += n;
            }
            double t = (now() - start) / count;
            if (t < best) best = t;
        }
        printf("| %s | %.2f | %.0f | %.2f |\n", p->name, best * 1e3, bytes / 1024.0 / count, (double)size * count / bytes);
        ZSTD_freeCCtx(c);
    }
    return 0;
}
