#include "CFrameKernels.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

double CFrameKernels_sampled_changed_share_shifted(const uint8_t *src, size_t stride, size_t width, size_t height,
                                              const uint8_t *reference, size_t step, int dx, int dy,
                                              double give_up) {
    size_t pixels = width * height;
    if (pixels == 0 || step == 0) return 0;
    size_t samples = (pixels + step - 1) / step;
    size_t limit = (size_t)(give_up * (double)samples);
    size_t changed = 0;
    for (size_t k = 0; k < pixels; k += step) {
        long x = (long)(k % width), y = (long)(k / width);
        long rx = x - dx, ry = y - dy;
        const uint8_t *p = src + (size_t)y * stride + 4 * (size_t)x;
        if (rx < 0 || ry < 0 || rx >= (long)width || ry >= (long)height) {
            changed += (p[0] | p[1] | p[2]) != 0;
        } else {
            const uint8_t *r = reference + 3 * ((size_t)ry * width + (size_t)rx);
            changed += (p[2] != r[0]) | (p[1] != r[1]) | (p[0] != r[2]);
        }
        // Early out: this displacement is already worse than the one to beat.
        if (changed > limit) return (double)changed / (double)samples;
    }
    return (double)changed / (double)samples;
}

double CFrameKernels_sampled_changed_share(const uint8_t *src, size_t stride, size_t width, size_t height,
                                      const uint8_t *reference, size_t step) {
    // A share never exceeds 1: every sample is counted.
    return CFrameKernels_sampled_changed_share_shifted(src, stride, width, height, reference, step, 0, 0, 1.0);
}

double CFrameKernels_best_shift(const uint8_t *src, size_t stride, size_t width, size_t height,
                           const uint8_t *reference, size_t step, int center_dx, int center_dy,
                           int radius_x, int radius_y, double max_share, int *dx, int *dy) {
    // The centre first, then rings outwards: when the motion goes on as before, or is small, a good
    // candidate comes early and every later one gives up after a few samples.
    double best = CFrameKernels_sampled_changed_share_shifted(src, stride, width, height, reference, step,
                                                         center_dx, center_dy, max_share);
    int best_distance = 0;
    *dx = center_dx;
    *dy = center_dy;
    int rings = radius_x > radius_y ? radius_x : radius_y;
    // Coarse pre-checks on every k-th sample (k up to 8), when that still leaves >= 200 samples.
    size_t spread = width * height / (step * 200);
    size_t coarse_step = spread >= 2 ? step * (spread < 8 ? spread : 8) : 0;
    for (int ring = 1; ring <= rings; ring++) {
        for (int oy = -ring; oy <= ring; oy++) {
            if (oy < -radius_y || oy > radius_y) continue;
            // The ring's top and bottom rows whole, the rows between only at their two ends.
            int edge = oy == -ring || oy == ring;
            for (int ox = -ring; ox <= ring; ox += edge ? 1 : 2 * ring) {
                if (ox < -radius_x || ox > radius_x) continue;
                int distance = abs(ox) + abs(oy);
                double bound = best < max_share ? best : max_share;
                // A wrong displacement changes nearly every pixel: a k-th of the samples rejects it k times
                // sooner. The margin keeps a better one from being rejected on the coarse estimate (over
                // 3 standard deviations with >= 200 coarse samples).
                if (coarse_step) {
                    double coarse = CFrameKernels_sampled_changed_share_shifted(src, stride, width, height, reference,
                                                                           coarse_step, center_dx + ox, center_dy + oy,
                                                                           bound + 0.1);
                    if (coarse > bound + 0.1) continue;
                }
                double share = CFrameKernels_sampled_changed_share_shifted(src, stride, width, height, reference, step,
                                                                      center_dx + ox, center_dy + oy, bound);
                if (share < best || (share == best && distance < best_distance)) {
                    best = share;
                    best_distance = distance;
                    *dx = center_dx + ox;
                    *dy = center_dy + oy;
                }
            }
        }
    }
    return best;
}

double CFrameKernels_find_shift(const uint8_t *src, size_t stride, size_t width, size_t height,
                           const uint8_t *reference, size_t step, double unshifted_share, int last_dx, int last_dy,
                           int search_wide, double dense_share, int *dx, int *dy) {
    double best = unshifted_share;
    *dx = 0;
    *dy = 0;
    const struct { int center_dx, center_dy, radius_x, radius_y; } stages[] = {
        {last_dx, last_dy, CFRAMEKERNELS_MOTION_TRACKING_RADIUS, CFRAMEKERNELS_MOTION_TRACKING_RADIUS},
        {0, 0, CFRAMEKERNELS_MOTION_WIDE_RADIUS, CFRAMEKERNELS_MOTION_WIDE_RADIUS},
        {0, 0, 0, CFRAMEKERNELS_MOTION_SCROLL_RADIUS},
        {0, 0, CFRAMEKERNELS_MOTION_SCROLL_RADIUS, 0},
    };
    for (size_t k = 0; k < sizeof stages / sizeof stages[0]; k++) {
        // The wide stage runs only when tracking found nothing; both scroll axes when that found nothing.
        if (k == 1 && (!search_wide || best <= dense_share)) break;
        if (k == 2 && best <= dense_share) break;
        int x, y;
        double share = CFrameKernels_best_shift(src, stride, width, height, reference, step, stages[k].center_dx,
                                           stages[k].center_dy, stages[k].radius_x, stages[k].radius_y,
                                           best < dense_share ? best : dense_share, &x, &y);
        if (share < best) {
            best = share;
            *dx = x;
            *dy = y;
        }
    }
    return best;
}

/// residual[0..<count] ^= reference[0..<count]; returns the OR of the result's bytes.
static uint8_t xor_in_place(uint8_t *residual, const uint8_t *reference, size_t count) {
    uint64_t any = 0;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        uint64_t a, b;
        memcpy(&a, residual + i, 8);
        memcpy(&b, reference + i, 8);
        a ^= b;
        memcpy(residual + i, &a, 8);
        any |= a;
    }
    uint8_t tail = 0;
    for (; i < count; i++) tail |= (residual[i] ^= reference[i]);
    return (uint8_t)(any != 0) | tail;
}

static uint8_t any_byte(const uint8_t *bytes, size_t count) {
    uint64_t any = 0;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        uint64_t a;
        memcpy(&a, bytes + i, 8);
        any |= a;
    }
    uint8_t tail = 0;
    for (; i < count; i++) tail |= bytes[i];
    return (uint8_t)(any != 0) | tail;
}

int CFrameKernels_bgrx_xor_rgb_shifted(const uint8_t *src, size_t stride, size_t width, size_t height,
                                  const uint8_t *reference, int dx, int dy, uint8_t *residual, uint8_t *image) {
    size_t row_bytes = width * 3;
    // Columns whose reference pixel lies inside the image: [first, last).
    long first = dx > 0 ? dx : 0, last = dx < 0 ? (long)width + dx : (long)width;
    if (first > (long)width) first = (long)width;
    if (last < first) last = first;
    uint8_t any = 0;
    for (size_t y = 0; y < height; y++) {
        uint8_t *res = residual + y * row_bytes;
        // The row in RGB first (SIMD, stays in L1), then the overlap XORed with the displaced reference.
        CFrameKernels_bgrx_to_rgb(src + y * stride, stride, width, 1, res);
        if (image) memcpy(image + y * row_bytes, res, row_bytes);
        long ry = (long)y - dy;
        if (ry < 0 || ry >= (long)height || first == last) {
            any |= any_byte(res, row_bytes);
            continue;
        }
        const uint8_t *ref = reference + (size_t)ry * row_bytes + 3 * (size_t)(first - dx);
        any |= any_byte(res, 3 * (size_t)first);
        any |= xor_in_place(res + 3 * first, ref, 3 * (size_t)(last - first));
        any |= any_byte(res + 3 * last, row_bytes - 3 * (size_t)last);
    }
    return any != 0;
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

void CFrameKernels_bgrx_to_rgb(const uint8_t *src, size_t stride, size_t width, size_t height, uint8_t *rgb) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("ssse3")) { bgrx_to_rgb_ssse3(src, stride, width, height, rgb); return; }
#endif
    bgrx_to_rgb_scalar(src, stride, width, height, rgb);
}

int CFrameKernels_bgrx_xor_rgb(const uint8_t *src, size_t stride, size_t width, size_t height,
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
