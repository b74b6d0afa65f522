#!/usr/bin/env python3
"""Write one small image per PNG/JPEG variant that cnn-viz decodes, for the Swift tests.

Usage: python3 scripts/reference/make_image_samples.py OUTDIR

Every sample is 61x43 pixels (odd, not a multiple of the JPEG block size) of a fixed,
seeded picture with gradients, edges and noise; decode_images.py then gives Pillow's
reading of each. Pillow writes the 8-bit PNGs and every JPEG; a small writer below makes
the PNG variants that Pillow cannot write (16-bit colour, 2-bit gray, Adam7 interlacing).

PNG:  gray 1/2/8/16-bit, gray+alpha 8/16, palette 4/8-bit, palette with tRNS, RGB 8/16,
      RGB with a tRNS colour, RGBA 8/16, interlaced RGB 8, RGBA 16 and palette, eXIf
      orientation 6.
JPEG: baseline 4:2:0, 4:2:2, 4:4:4, gray, progressive (colour and gray), restart markers,
      CMYK (Pillow's Adobe-inverted convention), EXIF orientation 1-8 (little-endian) and
      6 (big-endian "MM").
"""

import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 61, 43
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def picture(channels=3, depth=8, seed=0):
    """[H, W, channels] values in 0 .. 2**depth - 1: gradients, a hard edge, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    planes = [x / (WIDTH - 1), y / (HEIGHT - 1), (x + y) / (WIDTH + HEIGHT - 2), 1 - x / (WIDTH - 1)]
    top = 2 ** depth - 1
    out = np.stack(planes[:channels], axis=2)
    out[(x > WIDTH / 2) & (y < HEIGHT / 3)] *= 0.3  # a hard-edged dark block
    noise = rng.normal(0, 0.05, out.shape)
    return np.clip(np.round((out + noise) * top), 0, top).astype(np.uint16 if depth == 16 else np.uint8)


# ---------------------------------------------------------------- a minimal PNG writer

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def packed_rows(samples, depth):
    """Rows of samples (a [h, w*channels] int array), each with filter byte 0, packed MSB first."""
    rows = []
    for row in samples:
        if depth == 16:
            data = row.astype(">u2").tobytes()
        elif depth == 8:
            data = row.astype(np.uint8).tobytes()
        else:
            per_byte = 8 // depth
            padded = np.concatenate([row, np.zeros((-len(row)) % per_byte, row.dtype)]).astype(np.uint16)
            groups = padded.reshape(-1, per_byte)
            shifts = np.array([8 - depth * (i + 1) for i in range(per_byte)])
            data = (groups << shifts).sum(axis=1).astype(np.uint8).tobytes()
        rows.append(b"\x00" + data)
    return b"".join(rows)


def write_png(path, samples, depth, colour_type, palette=None, trns=None, interlace=False):
    """samples: [H, W, channels] (indices for a palette image)."""
    h, w, channels = samples.shape
    flat = lambda a: a.reshape(a.shape[0], -1)
    if interlace:
        raw = b"".join(packed_rows(flat(samples[y0::dy, x0::dx]), depth)
                       for x0, y0, dx, dy in ADAM7 if samples[y0::dy, x0::dx].size)
    else:
        raw = packed_rows(flat(samples), depth)
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        body += chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).reshape(-1)))
    if trns is not None:
        body += chunk(b"tRNS", trns)
    body += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


# ---------------------------------------------------------------- EXIF

def exif_orientation(value, big_endian=False):
    """A TIFF structure whose IFD0 holds only Orientation (0x0112, SHORT, 1 value)."""
    e = ">" if big_endian else "<"
    header = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    entry = struct.pack(e + "HHIHH", 0x0112, 3, 1, value, 0)
    return header + struct.pack(e + "H", 1) + entry + struct.pack(e + "I", 0)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rgb, rgba = picture(3), picture(4, seed=1)
    gray = picture(1, seed=2)[:, :, 0]

    # PNG written by Pillow.
    Image.fromarray(rgb, "RGB").save(out / "png_rgb8.png")
    Image.fromarray(rgba, "RGBA").save(out / "png_rgba8.png")
    Image.fromarray(gray, "L").save(out / "png_gray8.png")
    Image.fromarray(picture(2, seed=3), "LA").save(out / "png_gray_alpha8.png")
    Image.fromarray(gray > 128).save(out / "png_gray1.png")
    quantised = Image.fromarray(rgb, "RGB").quantize(200)
    quantised.save(out / "png_palette8.png")
    quantised.save(out / "png_palette_trns.png", transparency=bytes(range(0, 250, 5)))
    Image.fromarray(rgb, "RGB").quantize(16).save(out / "png_palette4.png", bits=4)
    keyed = rgb.copy()
    keyed[10:20, 10:30] = (10, 200, 30)
    Image.fromarray(keyed, "RGB").save(out / "png_rgb_trns.png", transparency=(10, 200, 30))
    Image.fromarray(rgb, "RGB").save(out / "png_exif6.png", exif=exif_orientation(6))

    # PNG that Pillow cannot write.
    write_png(out / "png_gray2.png", (gray[:, :, None] >> 6), 2, 0)
    write_png(out / "png_gray16.png", picture(1, 16, seed=4), 16, 0)
    write_png(out / "png_gray_alpha16.png", picture(2, 16, seed=5), 16, 4)
    write_png(out / "png_rgb16.png", picture(3, 16, seed=6), 16, 2)
    write_png(out / "png_rgba16.png", picture(4, 16, seed=7), 16, 6)
    write_png(out / "png_interlaced_rgb8.png", rgb, 8, 2, interlace=True)
    write_png(out / "png_interlaced_rgba16.png", picture(4, 16, seed=8), 16, 6, interlace=True)
    indices = np.asarray(quantised)[:, :, None]
    palette = np.asarray(quantised.getpalette()[:600]).reshape(-1, 3)
    write_png(out / "png_interlaced_palette.png", indices, 8, 3, palette=palette, trns=bytes(range(255, 0, -3)), interlace=True)

    # JPEG, all written by Pillow.
    colour = Image.fromarray(rgb, "RGB")
    colour.save(out / "jpeg_baseline_420.jpg", quality=90)
    colour.save(out / "jpeg_baseline_422.jpg", quality=90, subsampling=1)
    colour.save(out / "jpeg_baseline_444.jpg", quality=90, subsampling=0)
    colour.save(out / "jpeg_progressive.jpg", quality=90, progressive=True)
    colour.save(out / "jpeg_restart.jpg", quality=90, restart_marker_rows=1)
    Image.fromarray(gray, "L").save(out / "jpeg_gray.jpg", quality=90)
    Image.fromarray(gray, "L").save(out / "jpeg_progressive_gray.jpg", quality=90, progressive=True)
    Image.fromarray(rgba, "RGBA").convert("CMYK").save(out / "jpeg_cmyk.jpg", quality=90)
    for value in range(1, 9):
        colour.save(out / f"jpeg_exif{value}.jpg", quality=90, exif=b"Exif\x00\x00" + exif_orientation(value))
    colour.save(out / "jpeg_exif6_motorola.jpg", quality=90, exif=b"Exif\x00\x00" + exif_orientation(6, big_endian=True))
    print(f"wrote {len(list(out.iterdir()))} samples into {out}")


if __name__ == "__main__":
    main()
