#include "png_reader.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

static void on_error(png_structp png, png_const_charp text) {
    cnnviz_png_reader *reader = (cnnviz_png_reader *)png_get_error_ptr(png);
    strncpy(reader->message, text ? text : "unknown libpng error", sizeof reader->message - 1);
    reader->message[sizeof reader->message - 1] = 0;
    png_longjmp(png, 1);
}

// Warnings (an unknown ancillary chunk, a bad CRC on one) do not stop decoding; libpng would
// print them to stderr.
static void on_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void read_memory(png_structp png, png_bytep out, size_t count) {
    cnnviz_png_reader *reader = (cnnviz_png_reader *)png_get_io_ptr(png);
    if (count > reader->size - reader->offset) png_error(png, "the file ends before the image data does (truncated)");
    memcpy(out, reader->data + reader->offset, count);
    reader->offset += count;
}

int cnnviz_png_begin(cnnviz_png_reader *reader, const unsigned char *data, size_t size) {
    memset(reader, 0, sizeof *reader);
    reader->data = data;
    reader->size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, on_error, on_warning);
    if (!png) { strcpy(reader->message, "cannot start libpng"); return -1; }
    reader->png = png;
    png_infop info = png_create_info_struct(png);
    if (!info) { strcpy(reader->message, "cannot start libpng"); return -1; }
    reader->info = info;
    if (setjmp(png_jmpbuf(png))) return -1;
    png_set_read_fn(png, reader, read_memory);
    png_read_info(png, info);
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    reader->width = png_get_image_width(png, info);
    reader->height = png_get_image_height(png, info);
    reader->channels = png_get_channels(png, info);
    reader->bit_depth = png_get_bit_depth(png, info);
    return 0;
}

int cnnviz_png_read(cnnviz_png_reader *reader, unsigned char *pixels, size_t row_bytes) {
    png_structp png = (png_structp)reader->png;
    if (!png) return -1;
    if (row_bytes < png_get_rowbytes(png, (png_infop)reader->info)) {
        strcpy(reader->message, "row buffer too small");
        return -1;
    }
    png_bytep *rows = (png_bytep *)calloc(reader->height ? reader->height : 1, sizeof(png_bytep));
    if (!rows) { strcpy(reader->message, "out of memory for row pointers"); return -1; }
    reader->rows = rows;
    for (unsigned y = 0; y < reader->height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    if (setjmp(png_jmpbuf(png))) return -1;
    // Everything after the image data (IEND, trailing text) is not read: a file cut after
    // its last IDAT still has all its pixels, and Pillow accepts it too.
    png_read_image(png, rows);
    return 0;
}

void cnnviz_png_end(cnnviz_png_reader *reader) {
    png_structp png = (png_structp)reader->png;
    png_infop info = (png_infop)reader->info;
    if (png) png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(reader->rows);
    reader->png = NULL;
    reader->info = NULL;
    reader->rows = NULL;
}
