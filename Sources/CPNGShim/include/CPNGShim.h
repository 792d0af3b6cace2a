#ifndef CPNGSHIM_H
#define CPNGSHIM_H
#include <png.h>
#include <stdint.h>

/// Decodes the PNG at `path` to 8-bit RGB (alpha composited on black, palettes and grey expanded) with
/// libpng's simplified API, whose version and format constants are macros Swift cannot import.
/// The header is checked first: an image wider than max_width or taller than max_height fails
/// before any pixel memory is allocated.
/// On success returns 0 and sets *pixels (malloc'd, width*height*3 bytes; free with CPNGShim_free).
/// On failure returns -1 and writes libpng's message into `message`.
int CPNGShim_read_rgb(const char *path, int max_width, int max_height, uint8_t **pixels, int *width, int *height, char *message, int message_size);
void CPNGShim_free(uint8_t *pixels);
#endif
