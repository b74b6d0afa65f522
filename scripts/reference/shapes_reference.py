#!/usr/bin/env python3
"""onnxruntime's view of the shipped shapes model on the sample scenes.

Usage: python3 scripts/reference/shapes_reference.py OUTDIR

For every samples/images/*.png: the model input built here from the model's own metadata
(Pillow RGB, resized bilinear to the declared size if needed, x·scale, (x − mean)/std; no
cnn-viz code involved) and onnxruntime's logits for it. The Swift tests check that cnn-viz
builds the same input from the same metadata and computes the same logits (≤ 1e-4).

Writes
  OUTDIR/shapes/<stem>.input.npy    float32 [1, 3, 64, 64]
  OUTDIR/shapes/<stem>.logits.npy   float32 [1, 6]
  OUTDIR/shapes/index.json          {"model", "labels", "images": {stem: png path}}
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from PIL import Image

root = Path(__file__).resolve().parents[2]
out = Path(sys.argv[1]) / "shapes"
out.mkdir(parents=True, exist_ok=True)
model_path = root / "samples" / "models" / "shapes.onnx"
model = onnx.load(str(model_path))
meta = {p.key: p.value for p in model.metadata_props}
assert meta["cnn-viz.preprocess"] == "none", meta
width, height = (int(v) for v in meta["cnn-viz.preprocess.size"].split("x"))
scale = float(meta["cnn-viz.preprocess.scale"])
mean = np.array([float(v) for v in meta["cnn-viz.preprocess.mean"].split(",")], np.float32)
std = np.array([float(v) for v in meta["cnn-viz.preprocess.std"].split(",")], np.float32)
session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
images = {}
for png in sorted((root / "samples" / "images").glob("*.png")):
    image = Image.open(png).convert("RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    x = np.asarray(image, np.float32) * np.float32(scale)
    x = ((x - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    logits = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.save(out / f"{png.stem}.input.npy", x)
    np.save(out / f"{png.stem}.logits.npy", logits.astype(np.float32))
    images[png.stem] = str(png)
json.dump({"model": str(model_path), "labels": meta["cnn-viz.labels"].split("\n"), "images": images},
          open(out / "index.json", "w"), indent=1)
print(f"shapes reference: {len(images)} sample scenes", file=sys.stderr)
