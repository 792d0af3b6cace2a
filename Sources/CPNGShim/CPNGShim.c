#include "CPNGShim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int CPNGShim_read_rgb(const char *path, uint8_t **pixels, int *width, int *height, char *message, int message_size) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    *pixels = NULL;
    if (!png_image_begin_read_from_file(&image, path)) {
        snprintf(message, (size_t)message_size, "%s", image.message);
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
