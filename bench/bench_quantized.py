#!/usr/bin/env python3
"""Quantized models: cnn-viz's int8 forward against onnxruntime's, and the dataset diff's cost.

Usage: python3 bench/bench_quantized.py --cnn-viz PATH [--shared DIR] [--work DIR] [--iters 20]

Builds (or reuses, with --work) the --large cases of scripts/reference/quantized_models.py:
ResNet-18 and MobileNetV2 from torchvision (seeded, BN calibrated on the shared photos) as
float32 and quantized by onnxruntime (static QDQ per channel, static QOperator, dynamic).

1. Forward, batch 1, 224x224, 2 threads each, one warm-up then --iters timed runs, medians:
   cnn-viz `run --repeat ITERS --threads 2` (in-process timing) against bench/ort_worker.py
   (onnxruntime, CPUExecutionProvider, intra_op_num_threads=2, default optimisations, so its
   QDQ groups run as its fused integer kernels).
2. The dataset diff: `cnn-viz diff FOLDER --model FLOAT --model-b QDQ` over 8 photo crops
   (224x224 PNGs), wall time per image (process start and both model loads included), against
   two plain forwards per image (cnn-viz's float and QDQ medians from 1.).

Ratios are cnn-viz time / peer time (below 1: cnn-viz faster). No assertion on time.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def cnn_viz_forward(binary, model, tensor, iters):
    out = subprocess.run([binary, "run", "--model", model, "--tensor", tensor, "--repeat", str(iters), "--threads", "2",
                          "--out", tempfile.mkdtemp(prefix="cnnviz-bench-"), "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["timing"]["forward_ms"]


def ort_forward(model, tensor, iters):
    out = subprocess.run([sys.executable, HERE / "ort_worker.py", model, tensor, str(iters)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["forward_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cnn-viz", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--work", type=Path)
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cnnviz-bench-quantized-"))
    folder = work / "quantized"
    if not (folder / "resnet18_qoperator.onnx").exists():
        subprocess.run([sys.executable, HERE.parent / "scripts/reference/quantized_models.py", work, "--shared", args.shared, "--large"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("forward, batch 1, 2 threads (median ms):")
    print("model        | format          | cnn-viz | onnxruntime | ratio")
    print("------------ | --------------- | ------- | ----------- | -----")
    results = {}
    for model in ("resnet18", "mobilenet_v2"):
        x = np.load(folder / f"{model}.input.npy")[:1]
        tensor = folder / f"{model}.bench.npy"
        np.save(tensor, x)
        for fmt in ("float", "qdq_per_channel", "qoperator", "dynamic"):
            path = folder / (f"{model}.onnx" if fmt == "float" else f"{model}_{fmt}.onnx")
            ours, peer = cnn_viz_forward(args.cnn_viz, path, tensor, args.iters), ort_forward(path, tensor, args.iters)
            results[(model, fmt)] = ours
            print(f"{model:12s} | {fmt:15s} | {ours:7.1f} | {peer:11.1f} | {ours / peer:.2f}x")
    # The dataset diff: 8 crops of the photos at 224x224.
    from PIL import Image
    photos = work / "diff-photos"
    photos.mkdir(exist_ok=True)
    inputs = np.load(folder / "resnet18.input.npy")
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    for i in range(len(inputs)):
        rgb = np.clip(np.rint((inputs[i].transpose(1, 2, 0) * std + mean) * 255), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(photos / f"photo_{i}.png")
        Image.fromarray(rgb[:, ::-1]).save(photos / f"photo_{i}_flipped.png")
    count = len(list(photos.glob("*.png")))
    print(f"\ndataset diff over {count} photos, float against QDQ per channel (wall, per image):")
    for model in ("resnet18", "mobilenet_v2"):
        start = time.perf_counter()
        subprocess.run([args.cnn_viz, "diff", photos, "--model", folder / f"{model}.onnx", "--model-b", folder / f"{model}_qdq_per_channel.onnx",
                        "--preprocess", "imagenet", "--resize-only", "--json", "--threads", "2"], capture_output=True)
        per_image = (time.perf_counter() - start) * 1e3 / count
        plain = results[(model, "float")] + results[(model, "qdq_per_channel")]
        print(f"{model:12s}: diff {per_image:.0f} ms an image, two plain forwards {plain:.0f} ms: {per_image / plain:.1f}x")


if __name__ == "__main__":
    main()
