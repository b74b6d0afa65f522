#!/usr/bin/env python3
"""Decode images with Pillow, as cnn-viz's ImageDecoder should, for the Swift tests.

Usage: python3 scripts/reference/decode_images.py OUTDIR [--images DIR]

Decodes every .png/.jpg/.jpeg in DIR (default: <shared>/data/images) and writes
  OUTDIR/decoded/<file name>.npy   uint8, [H, W, 3], RGB
  OUTDIR/decoded/manifest.json     {"images": [{"name", "source", "npy", "format", "mode", "size"}]}

The decoding, step by step:
  1. Image.open, then ImageOps.exif_transpose (JPEG APP1 and PNG eXIf orientation 1-8).
  2. A 16-bit gray PNG (Pillow's mode "I;16") keeps its high byte, v >> 8. Pillow's own
     convert("RGB") clips it at 255 instead, so this step is cnn-viz's convention written
     out, consistent with what Pillow does for 16-bit RGB, RGBA and gray+alpha PNGs.
  3. With an alpha channel (RGBA, LA, PA) or a tRNS transparency, convert("RGBA") and
     composite onto white in integers: (c*a + 255*(255 - a) + 127) // 255. The formula is
     written out because Pillow's alpha_composite rounds differently.
  4. Otherwise convert("RGB") (gray replicated, palette looked up, CMYK converted with
     Pillow's Adobe-inverted convention).

The shared data directory is <repo root>/../shared, or $CNNVIZ_SHARED. Only OUTDIR is written.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CNNVIZ_SHARED", REPO_ROOT.parent / "shared"))
SUFFIXES = {".png", ".jpg", ".jpeg"}


def decode(path):
    """The RGB uint8 array [H, W, 3] and the mode Pillow opened the file in."""
    with Image.open(path) as opened:
        mode = opened.mode
        image = ImageOps.exif_transpose(opened)
        if image.mode.startswith("I;16") or image.mode == "I":
            gray = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
            return np.repeat(gray[:, :, None], 3, axis=2), mode
        if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
            rgba = np.asarray(image.convert("RGBA")).astype(np.uint32)
            colour, alpha = rgba[:, :, :3], rgba[:, :, 3:]
            rgb = (colour * alpha + 255 * (255 - alpha) + 127) // 255
            return rgb.astype(np.uint8), mode
        return np.asarray(image.convert("RGB")), mode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--images", type=Path, default=SHARED / "data" / "images")
    args = parser.parse_args()
    if not args.images.is_dir():
        # No manifest, so that the Swift tests skip (or, under CI=true, fail) as for other missing data.
        print(f"decode_images.py: no directory {args.images}; nothing decoded")
        return
    out = args.outdir / "decoded"
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in sorted(args.images.iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        rgb, mode = decode(path)
        npy = out / f"{path.name}.npy"
        np.save(npy, np.ascontiguousarray(rgb, dtype=np.uint8))
        with Image.open(path) as image:
            fmt = image.format
        entries.append({"name": path.name, "source": str(path.resolve()), "npy": str(npy.resolve()),
                        "format": fmt, "mode": mode, "size": [int(rgb.shape[1]), int(rgb.shape[0])]})
    (out / "manifest.json").write_text(json.dumps({"images": entries}, indent=1))
    print(f"decoded {len(entries)} images from {args.images} into {out}")


if __name__ == "__main__":
    main()
