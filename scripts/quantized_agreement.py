#!/usr/bin/env python3
"""Quantized models against onnxruntime, end to end: ResNet-18 and MobileNetV2 (224x224).

Usage: python3 scripts/quantized_agreement.py --cnn-viz PATH [--shared DIR] [--work DIR]

Builds the --large cases of scripts/reference/quantized_models.py (torchvision ResNet-18 and
MobileNetV2, seeded, BatchNorm calibrated on the shared photos, quantized by onnxruntime as
static QDQ per channel, static QOperator and dynamic, calibrated on 8 photo crops), then runs
`cnn-viz run` on each of the 4 test crops and prints, per model and format, the largest
|cnn-viz - onnxruntime| of the logits in quantisation steps of the output (where the output
comes from a DequantizeLinear) and the top-1 agreement. onnxruntime runs with
session.x64quantprecision=1 (exact integer products; see quantized_models.py). Exit status 1
when a case is more than one step away or a top-1 disagrees.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cnn-viz", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--work", type=Path, help="keep the models here (default: a temporary folder)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cnnviz-quantized-"))
    subprocess.run([sys.executable, HERE / "reference/quantized_models.py", work, "--shared", args.shared, "--large"], check=True)
    folder = work / "quantized"
    cases = json.loads((folder / "quantized.json").read_text())["cases"]
    failed = False
    print("model        | format          | max |diff| (steps) | top-1 agreement")
    print("------------ | --------------- | ------------------- | ---------------")
    for case in cases:
        if case["model"] == "small_cnn":
            continue
        inputs, expected = np.load(folder / case["input"]), np.load(folder / case["output"])
        worst, agree = 0.0, 0
        for i in range(len(inputs)):
            x = folder / f"{case['name']}.x{i}.npy"
            np.save(x, inputs[i:i + 1])
            out = folder / f"{case['name']}.run{i}"
            subprocess.run([args.cnn_viz, "run", "--model", folder / case["file"], "--tensor", x, "--out", out],
                           check=True, stdout=subprocess.DEVNULL)
            y = np.load(out / "logits.npy")
            worst = max(worst, float(np.abs(y - expected[i:i + 1]).max()))
            agree += int(y.argmax() == expected[i].argmax())
        step = case["output_step"]
        steps = worst / step if step else None
        failed |= agree < len(inputs) or (steps is not None and steps > 1.001) or (steps is None and worst > 1e-4)
        shown = f"{steps:.2f}" if steps is not None else f"{worst:.3g} (float output)"
        print(f"{case['model']:12s} | {case['format']:15s} | {shown:19s} | {agree}/{len(inputs)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
