#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "png_writer.h"

static void on_write_error(png_structp png, png_const_charp text) {
    cnnviz_png_buffer *out = png_get_error_ptr(png);
    strncpy(out->message, text ? text : "libpng error", sizeof out->message - 1);
    out->message[sizeof out->message - 1] = 0;
    png_longjmp(png, 1);
}

static void on_write_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void append(png_structp png, png_bytep bytes, size_t count) {
    cnnviz_png_buffer *out = png_get_io_ptr(png);
    if (out->size + count > out->capacity) {
        size_t capacity = out->capacity ? out->capacity : 65536;
        while (capacity < out->size + count) capacity *= 2;
        unsigned char *grown = realloc(out->data, capacity);
        if (!grown) png_error(png, "out of memory while encoding a PNG");
        out->data = grown;
        out->capacity = capacity;
    }
    memcpy(out->data + out->size, bytes, count);
    out->size += count;
}

static void flush(png_structp png) { (void)png; }

int cnnviz_png_write(const unsigned char *pixels, unsigned width, unsigned height, unsigned channels, int level,
                     cnnviz_png_buffer *out) {
    memset(out, 0, sizeof *out);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, out, on_write_error, on_write_warning);
    if (!png) { strcpy(out->message, "cannot create a libpng writer"); return -1; }
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;   // volatile: assigned after setjmp, freed after a longjmp
    if (!info || setjmp(png_jmpbuf(png))) {
        if (!out->message[0]) strcpy(out->message, "cannot create a libpng writer");
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(rows);
        free(out->data);
        out->data = NULL;
        out->size = out->capacity = 0;
        return -1;
    }
    png_set_write_fn(png, out, append, flush);
    png_set_IHDR(png, info, width, height, 8, channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, level);
    png_write_info(png, info);
    rows = malloc(sizeof(png_bytep) * (height ? height : 1));
    if (!rows) png_error(png, "out of memory while encoding a PNG");
    for (unsigned y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * width * channels);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    return 0;
}

void cnnviz_png_buffer_free(cnnviz_png_buffer *buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = buffer->capacity = 0;
}
