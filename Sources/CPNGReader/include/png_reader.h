#ifndef CNNVIZ_PNG_READER_H
#define CNNVIZ_PNG_READER_H

#include <stddef.h>

/// A PNG being read from memory through libpng's low-level API.
///
/// libpng reports errors by longjmp, which Swift cannot catch, so the two calls that can fail
/// set their jump point here in C and return -1 with `message` filled in instead.
/// The rows come out as stored, expanded but not converted: palette to RGB, gray below 8 bits
/// to 8 bits, tRNS to an alpha channel, interlacing undone. No gamma or colour-profile
/// correction is applied (as Pillow and torchvision do not), and 16-bit samples stay 16-bit,
/// big-endian.
typedef struct cnnviz_png_reader {
    void *png;              // png_structp
    void *info;             // png_infop
    const unsigned char *data;
    size_t size;
    size_t offset;
    void *rows;             // row pointers while reading, freed by cnnviz_png_end
    unsigned width;
    unsigned height;
    unsigned channels;      // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA, after expansion
    unsigned bit_depth;     // 8 or 16, after expansion
    char message[256];
} cnnviz_png_reader;

/// Reads the signature and every chunk before the image data, and sets up the expansion.
/// Returns 0, or -1 with `message` set. Call cnnviz_png_end afterwards either way.
int cnnviz_png_begin(cnnviz_png_reader *reader, const unsigned char *data, size_t size);

/// Reads the image into `pixels`: height rows of `row_bytes` = width·channels·bit_depth/8.
/// Returns 0, or -1 with `message` set (truncated or corrupt data).
int cnnviz_png_read(cnnviz_png_reader *reader, unsigned char *pixels, size_t row_bytes);

/// Frees everything that libpng and the reader allocated.
void cnnviz_png_end(cnnviz_png_reader *reader);

#endif
