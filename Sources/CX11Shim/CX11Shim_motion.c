#include "CX11Shim_motion.h"
#include "CX11Shim_hdf5.h"
#include <stdlib.h>
#include <string.h>

double CX11Shim_sampled_changed_share_shifted(const uint8_t *src, size_t stride, size_t width, size_t height,
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

double CX11Shim_sampled_changed_share(const uint8_t *src, size_t stride, size_t width, size_t height,
                                      const uint8_t *reference, size_t step) {
    // A share never exceeds 1: every sample is counted.
    return CX11Shim_sampled_changed_share_shifted(src, stride, width, height, reference, step, 0, 0, 1.0);
}

double CX11Shim_best_shift(const uint8_t *src, size_t stride, size_t width, size_t height,
                           const uint8_t *reference, size_t step, int center_dx, int center_dy,
                           int radius_x, int radius_y, double max_share, int *dx, int *dy) {
    // The centre first, then rings outwards: when the motion goes on as before, or is small, a good
    // candidate comes early and every later one gives up after a few samples.
    double best = CX11Shim_sampled_changed_share_shifted(src, stride, width, height, reference, step,
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
                    double coarse = CX11Shim_sampled_changed_share_shifted(src, stride, width, height, reference,
                                                                           coarse_step, center_dx + ox, center_dy + oy,
                                                                           bound + 0.1);
                    if (coarse > bound + 0.1) continue;
                }
                double share = CX11Shim_sampled_changed_share_shifted(src, stride, width, height, reference, step,
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

double CX11Shim_find_shift(const uint8_t *src, size_t stride, size_t width, size_t height,
                           const uint8_t *reference, size_t step, double unshifted_share, int last_dx, int last_dy,
                           int search_wide, double dense_share, int *dx, int *dy) {
    double best = unshifted_share;
    *dx = 0;
    *dy = 0;
    const struct { int center_dx, center_dy, radius_x, radius_y; } stages[] = {
        {last_dx, last_dy, CX11SHIM_MOTION_TRACKING_RADIUS, CX11SHIM_MOTION_TRACKING_RADIUS},
        {0, 0, CX11SHIM_MOTION_WIDE_RADIUS, CX11SHIM_MOTION_WIDE_RADIUS},
        {0, 0, 0, CX11SHIM_MOTION_SCROLL_RADIUS},
        {0, 0, CX11SHIM_MOTION_SCROLL_RADIUS, 0},
    };
    for (size_t k = 0; k < sizeof stages / sizeof stages[0]; k++) {
        // The wide stage runs only when tracking found nothing; both scroll axes when that found nothing.
        if (k == 1 && (!search_wide || best <= dense_share)) break;
        if (k == 2 && best <= dense_share) break;
        int x, y;
        double share = CX11Shim_best_shift(src, stride, width, height, reference, step, stages[k].center_dx,
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

int CX11Shim_bgrx_xor_rgb_shifted(const uint8_t *src, size_t stride, size_t width, size_t height,
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
        CX11Shim_bgrx_to_rgb(src + y * stride, stride, width, 1, res);
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
