#ifndef CNNVIZ_PNG_WRITER_H
#define CNNVIZ_PNG_WRITER_H

#include <stddef.h>

/// A PNG encoded into memory through libpng; `data` is malloc'd (free with
/// cnnviz_png_buffer_free). `message` holds libpng's error when cnnviz_png_write fails.
typedef struct cnnviz_png_buffer {
    unsigned char *data;
    size_t size;
    size_t capacity;
    char message[256];
} cnnviz_png_buffer;

/// Encodes height rows of width·channels 8-bit samples (3: RGB, 4: RGBA, alpha not
/// premultiplied) with zlib compression `level` (0–9). Returns 0, or -1 with `message` set
/// and nothing allocated. libpng's longjmp stays inside this C function.
int cnnviz_png_write(const unsigned char *pixels, unsigned width, unsigned height, unsigned channels, int level,
                     cnnviz_png_buffer *out);

void cnnviz_png_buffer_free(cnnviz_png_buffer *buffer);

#endif
