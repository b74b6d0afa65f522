#!/usr/bin/env python3
"""Benchmark the embedded shapes model: cnn-viz gradcam end to end, and training time.

Usage:
  python3 bench/bench_shapes.py --cnn-viz PATH [--runs 15] [--train]

End to end (process start to files written), alternately, `runs` times each:
  (i)  PATH gradcam samples/images/<scene>.png --out TMP: decode, preprocess, forward,
       backward to relu4, overlay PNG, .npy and HTML report, with the embedded model;
  (ii) the floor of any Python peer on the same work: a fresh python3 that imports
       onnxruntime, numpy and PIL, decodes the scene, builds the input and runs the
       same ONNX model forward once (no gradient, no picture, no report). pytorch-grad-cam
       and Captum need torch, which this machine cannot install, so this is a lower bound
       on what they would take, not their time.
Reports the median wall time of each and the ratio (ii)/(i); the target is (i) < 0.3 s.

With --train: `PATH train shapes --out TMP/shapes.onnx` with the shipped defaults, wall
time and the per-epoch validation accuracy it prints (no peer: torch is not installable).
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PEER = """
import numpy, onnxruntime
from PIL import Image
session = onnxruntime.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
x = numpy.asarray(Image.open(IMAGE).convert("RGB"), numpy.float32) / 255
x = ((x - 0.5) / 0.25).transpose(2, 0, 1)[None].astype(numpy.float32)
session.run(None, {session.get_inputs()[0].name: x})
"""


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnn-viz", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--train", action="store_true")
    args = ap.parse_args()
    binary = args.cnn_viz.resolve()
    scene = sorted((ROOT / "samples" / "images").glob("*+*_1.png"))[0]
    model = ROOT / "samples" / "models" / "shapes.onnx"
    peer = PEER.replace("MODEL", repr(str(model))).replace("IMAGE", repr(str(scene)))
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        wall([str(binary), "gradcam", str(scene), "--out", tmp])  # warm the page cache
        for _ in range(args.runs):
            ours.append(wall([str(binary), "gradcam", str(scene), "--out", tmp]))
            theirs.append(wall([sys.executable, "-c", peer]))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"scene {scene.relative_to(ROOT)}, {args.runs} runs each, medians")
        print(f"  cnn-viz gradcam, end to end (overlay, .npy, HTML)   {1000 * a:7.1f} ms   target < 300 ms")
        print(f"  python3 + onnxruntime, one forward only (peer floor) {1000 * b:7.1f} ms   ratio {b / a:.2f}x")
        if args.train:
            start = time.perf_counter()
            log = subprocess.run([str(binary), "train", "shapes", "--out", str(Path(tmp) / "shapes.onnx")],
                                 check=True, capture_output=True, text=True).stderr
            seconds = time.perf_counter() - start
            print(f"  cnn-viz train shapes (defaults)                      {seconds:7.1f} s")
            for line in log.splitlines():
                if line.startswith("epoch"):
                    print("    " + line)


if __name__ == "__main__":
    main()
