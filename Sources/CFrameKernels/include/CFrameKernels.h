#ifndef CFRAMEKERNELS_H
#define CFRAMEKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// Pixel kernels of the frame encoder: BGRX capture slots to packed RGB, XOR residuals, and the motion
/// search. No library: plain C with SSSE3 paths where the CPU has them.

/// Converts `height` rows of BGRX pixels (`stride` bytes apart) into packed RGB at `rgb`.
void CFrameKernels_bgrx_to_rgb(const uint8_t *src, size_t stride, size_t width, size_t height, uint8_t *rgb);

/// One fused pass: residual = RGB(src) XOR reference; when `update_reference` is non-zero the reference
/// becomes RGB(src). Returns 1 when any residual byte is non-zero, 0 when the frame equals the reference.
int CFrameKernels_bgrx_xor_rgb(const uint8_t *src, size_t stride, size_t width, size_t height,
                               uint8_t *reference, uint8_t *residual, int update_reference);

/// Motion kernels for the motion reference (format_version 2): a frame is compared with its
/// reference image displaced by (dx, dy), i.e. pixel (x, y) with reference pixel (x - dx, y - dy);
/// pixels whose reference pixel falls outside the image meet zeros.

/// Share (0...1) of pixels of BGRX `src` (`stride` bytes per row) that differ from packed RGB
/// `reference`, among every `step`-th pixel: a cheap density estimate before any full pass (a prime
/// step walks across all columns). The displacement (0, 0) of the function below.
double CFrameKernels_sampled_changed_share(const uint8_t *src, size_t stride, size_t width, size_t height,
                                      const uint8_t *reference, size_t step);

/// Share (0...1) of every `step`-th pixel of BGRX `src` (`stride` bytes per row) that differs from
/// packed RGB `reference` displaced by (dx, dy). Stops counting once the share passes `give_up`
/// (returns a value above it).
double CFrameKernels_sampled_changed_share_shifted(const uint8_t *src, size_t stride, size_t width, size_t height,
                                              const uint8_t *reference, size_t step, int dx, int dy,
                                              double give_up);

/// The displacement within `radius_x`, `radius_y` of (`center_dx`, `center_dy`) whose sampled changed
/// share is the smallest (ties go to the one nearest the centre); writes it to `dx`, `dy` and returns
/// its share. Candidates stop counting past `max_share`, so a result above it means "none fits".
double CFrameKernels_best_shift(const uint8_t *src, size_t stride, size_t width, size_t height,
                           const uint8_t *reference, size_t step, int center_dx, int center_dy,
                           int radius_x, int radius_y, double max_share, int *dx, int *dy);

/// The writer's search stages: within TRACKING of the last displacement found (a pan keeps its speed),
/// then within WIDE of zero (a pan starting fast or turning), then along each axis up to SCROLL (a
/// wheel scroll).
enum {
    CFRAMEKERNELS_MOTION_TRACKING_RADIUS = 4,
    CFRAMEKERNELS_MOTION_WIDE_RADIUS = 16,
    CFRAMEKERNELS_MOTION_SCROLL_RADIUS = 128,
};

/// The displacement the writer stores a frame against: starting from the unshifted reference (share
/// `unshifted_share`, displacement (0, 0)), the tracking stage around (`last_dx`, `last_dy`), and, when
/// `search_wide` is non-zero and nothing so far leaves at most `dense_share` changed, the wide and scroll
/// stages. Writes the best displacement to `dx`, `dy` and returns its share (above `dense_share`: none fits).
double CFrameKernels_find_shift(const uint8_t *src, size_t stride, size_t width, size_t height,
                           const uint8_t *reference, size_t step, double unshifted_share, int last_dx, int last_dy,
                           int search_wide, double dense_share, int *dx, int *dy);

/// One pass: residual = RGB(src) XOR reference displaced by (dx, dy); when `image` is not NULL it
/// receives RGB(src). `residual`, `image` and `reference` must not overlap. Returns 1 when any
/// residual byte is non-zero.
int CFrameKernels_bgrx_xor_rgb_shifted(const uint8_t *src, size_t stride, size_t width, size_t height,
                                  const uint8_t *reference, int dx, int dy, uint8_t *residual, uint8_t *image);
#endif
