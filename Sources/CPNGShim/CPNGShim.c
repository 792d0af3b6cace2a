#include "CPNGShim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int CPNGShim_read_rgb(const char *path, int max_width, int max_height, uint8_t **pixels, int *width, int *height,
                      char *message, int message_size) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    *pixels = NULL;
    if (!png_image_begin_read_from_file(&image, path)) {
        snprintf(message, (size_t)message_size, "%s", image.message);
        png_image_free(&image);
        return -1;
    }
    // The header alone is read so far: a few bytes can declare a huge image, so its size is checked
    // against what the caller can use before the decode buffer is allocated.
    if (image.width == 0 || image.height == 0 || image.width > (png_uint_32)max_width || image.height > (png_uint_32)max_height) {
        snprintf(message, (size_t)message_size, "declares %ux%u pixels, more than the %dx%d allowed (not decoded)",
                 image.width, image.height, max_width, max_height);
        png_image_free(&image);
        return -1;
    }
    image.format = PNG_FORMAT_RGB;
    size_t size = PNG_IMAGE_SIZE(image);
    uint8_t *buffer = malloc(size);
    if (buffer == NULL) {
        snprintf(message, (size_t)message_size, "out of memory for %ux%u image", image.width, image.height);
        png_image_free(&image);
        return -1;
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&image, &black, buffer, 0, NULL)) {
        snprintf(message, (size_t)message_size, "%s", image.message);
        free(buffer);
        png_image_free(&image);
        return -1;
    }
    *pixels = buffer;
    *width = (int)image.width;
    *height = (int)image.height;
    return 0;
}

void CPNGShim_free(uint8_t *pixels) { free(pixels); }
