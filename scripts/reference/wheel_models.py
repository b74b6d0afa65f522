#!/usr/bin/env python3
"""Real pretrained models that ship inside PyPI wheels, for the target tests.

Usage: python3 scripts/reference/wheel_models.py OUTDIR

rapidocr-onnxruntime 1.4.4 (Apache-2.0) carries PaddleOCR's PP-OCRv4 text detector (DBNet,
output [N, 1, H, W], the probability that a pixel is text) and recogniser (SVTR-LCNet CTC,
output [N, T, 6625] after a Softmax). The wheel is fetched with `pip download --no-deps` into
OUTDIR/wheels and its .onnx files extracted there; nothing is copied into the repository.

The scene is text rendered with Pillow's own font on white. onnxruntime (the reference)
gives:
  - recognition: the per-timestep argmax; the case records a timestep whose argmax is a
    character (not CTC blank 0), and the columns that timestep's receptive window covers
    (the recogniser downsamples width by 8: timestep t sits over columns 8t … 8t + 7);
  - detection: the text box, as the bounding box of the pixels whose probability is > 0.3
    (DBNet's binarisation threshold in rapidocr), on a 640×160 page with the text in its
    middle.
Writes OUTDIR/wheels/wheel_models.json.
"""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont

WHEEL = "rapidocr-onnxruntime==1.4.4"
TEXT = "CNN VIZ 42"


def fetch(out):
    wheels = list(out.glob("rapidocr_onnxruntime-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(out)], check=True)
        wheels = list(out.glob("rapidocr_onnxruntime-*.whl"))
    models = {}
    with zipfile.ZipFile(wheels[0]) as archive:
        for name in archive.namelist():
            if name.endswith(".onnx"):
                target = out / Path(name).name
                if not target.exists():
                    target.write_bytes(archive.read(name))
                models[Path(name).stem] = str(target)
    return models


def text_image(width, height, origin, size):
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    draw.text(origin, TEXT, fill="black", font=font)
    return image, draw.textbbox(origin, TEXT, font=font)


def tensor(image, mean, std):
    x = (np.asarray(image, np.float32) / 255 - mean) / std
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def main():
    out = Path(sys.argv[1]).resolve() / "wheels"
    out.mkdir(parents=True, exist_ok=True)
    models = fetch(out)
    rec, det = models["ch_PP-OCRv4_rec_infer"], models["ch_PP-OCRv4_det_infer"]

    # Recognition: 48×320, normalised to [-1, 1] as rapidocr does.
    image, _ = text_image(320, 48, (10, 6), 32)
    image.save(out / "text_line.png")
    x = tensor(image, 0.5, 0.5)
    np.save(out / "text_line.npy", x)
    probabilities = ort.InferenceSession(rec).run(None, {"x": x})[0][0]
    best = probabilities.argmax(-1)
    timesteps = [t for t in range(len(best)) if best[t] != 0]
    t = timesteps[len(timesteps) // 2]
    recognition = {"model": rec, "input": str(out / "text_line.npy"), "picture": str(out / "text_line.png"),
                   "timestep": int(t), "class": int(best[t]), "timesteps": int(len(best)),
                   "columns": [8 * t, 8 * t + 8], "argmax": best.tolist()}

    # Detection: a 640×160 page, ImageNet normalisation as rapidocr's detector.
    page, text_box = text_image(640, 160, (170, 55), 48)
    page.save(out / "text_page.png")
    y = tensor(page, np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32))
    np.save(out / "text_page.npy", y)
    probability = ort.InferenceSession(det).run(None, {"x": y})[0][0, 0]
    rows, cols = np.nonzero(probability > 0.3)
    box = [int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1]
    detection = {"model": det, "input": str(out / "text_page.npy"), "picture": str(out / "text_page.png"),
                 "box": box, "rendered_box": [int(v) for v in text_box]}

    (out / "wheel_models.json").write_text(json.dumps({"source": WHEEL, "licence": "Apache-2.0",
                                                       "recognition": recognition, "detection": detection}, indent=1) + "\n")
    print(f"wheel models ({WHEEL}): recogniser timestep {t} → class {best[t]} (columns {8 * t}–{8 * t + 7}); "
          f"detector box {box} (text drawn at {list(text_box)})")


if __name__ == "__main__":
    main()
